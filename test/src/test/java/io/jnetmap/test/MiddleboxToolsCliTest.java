package io.jnetmap.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnetmap.examples.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** lb, tlem, firewall and nat behave as every tool does: help, version, one-line usage errors (exit 2), failures (exit 1). */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MiddleboxToolsCliTest {
    record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.commandLine(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8))
                .execute(args);
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static void usageError(String expected, String... args) {
        Run r = run(args);
        assertEquals(2, r.code(), r.toString());
        assertEquals(1, r.err().lines().count(), r.toString());
        assertTrue(r.err().startsWith(args[0] + ": ") && r.err().contains(expected) && r.err().contains("(bin/jnetmap " + args[0] + " --help)"),
                r.toString());
    }

    @Test
    void helpAndVersion() {
        for (String tool : new String[] {"lb", "tlem", "firewall", "nat"}) {
            Run help = run(tool, "--help");
            assertEquals(0, help.code(), help.toString());
            assertTrue(help.out().startsWith("Usage: jnetmap " + tool), help.out());
            Run v = run(tool, "-V");
            assertEquals(0, v.code());
            assertTrue(v.out().startsWith("jnetmap "), v.out());
        }
        assertTrue(run("--help").out().contains("tlem"));
    }

    @Test
    void badCommandLinesAreOneLineUsageErrors() {
        usageError("pipes=0", "lb", "-i", "x}0", "-p", "0");
        usageError("-p a:b", "lb", "-i", "x}0", "-p", "a:b");
        usageError("-B -1", "lb", "-i", "x}0", "-p", "4", "-B", "-1");
        // the -W/-a/-v block is one mixin: the same check in every tool that has it
        usageError("-a 5000 (expected: 0..1023)", "lb", "-i", "x}0", "-p", "4", "-a", "5000");
        usageError("-a -2 (expected: 0..1023)", "firewall", "-i", "a}0", "-i", "a}1", "-a", "-2");
        usageError("-a 4096 (expected: 0..1023)", "nat", "-i", "a}0", "-i", "a}1", "-A", "10.0.0.1", "-g", "02:00:00:00:00:01",
                "--inside-mac", "02:00:00:00:00:02", "--outside-mac", "02:00:00:00:00:03", "-a", "4096");
        usageError("delay soon", "tlem", "-i", "a}0", "-i", "a}1", "-d", "soon");
        usageError("bandwidth fast", "tlem", "-i", "a}0", "-i", "a}1", "-b", "fast");
        usageError("loss=2.0", "tlem", "-i", "a}0", "-i", "a}1", "-l", "2");
        usageError("-i given 1 times", "tlem", "-i", "a}0");
        usageError("rule \"allow sideways tcp any any\"", "firewall", "-i", "a}0", "-i", "a}1", "-r", "allow sideways tcp any any");
        usageError("address 300.1.1.1", "nat", "-i", "a}0", "-i", "a}1", "-A", "300.1.1.1", "-g", "02:00:00:00:00:01",
                "--inside-mac", "02:00:00:00:00:02", "--outside-mac", "02:00:00:00:00:03");
        usageError("MAC zz", "nat", "-i", "a}0", "-i", "a}1", "-A", "10.0.0.1", "-g", "zz",
                "--inside-mac", "02:00:00:00:00:02", "--outside-mac", "02:00:00:00:00:03");
        usageError("--inside-mac/--outside-mac missing", "nat", "-i", "a}0", "-i", "a}1", "-A", "10.0.0.1", "-g", "02:00:00:00:00:01");
    }

    @Test
    void aPortThatCannotOpenIsAFailure() {
        Run r = run("lb", "-i", "netmap:jnnosuchif0", "-p", "lbcli" + ProcessHandle.current().pid() + ":2");
        assertEquals(1, r.code(), r.toString());
        assertTrue(r.err().startsWith("lb: ") && r.err().contains("jnnosuchif0"), r.toString());
    }
}
