package io.jnetmap.test;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.examples.Main;
import io.jnetmap.examples.ValeCtlTool;
import io.jnetmap.vale.ctl.SwitchFileLayout;
import io.jnetmap.vale.ctl.ValeCtl;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What a user types and reads, for every tool of {@code bin/jnetmap}: {@code -h}/{@code --help} print the
 * usage on standard output and exit 0, {@code -V}/{@code --version} the project's version, a bad
 * command line one line {@code tool: message (bin/jnetmap tool --help)} on standard error and exit 2, a
 * failure one line and exit 1 (the stack trace only with bridge's {@code -v}); the tables of
 * {@code vale-ctl} and {@code info} stay in columns whatever the length of a name; {@code info} shows
 * the process that holds each pipe end.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ToolsCliTest {
    private static final List<String> TOOLS = List.of("demo", "info", "pkt-gen", "bridge", "capture", "vale-ctl");

    record Run(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    /** {@code bin/jnetmap ARGS} in this JVM (capture excepted: it writes to the process's own streams). */
    private static Run inProcess(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.commandLine(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8))
                .execute(args);
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** {@code bin/jnetmap ARGS} as a process of its own, as a user runs it. */
    static Run process(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-Xmx256m", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile("jnetmap-cli", ".out");
        Path err = Files.createTempFile("jnetmap-cli", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail("bin/jnetmap " + String.join(" ", args) + " did not end");
            }
            return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** The project version, from the parent pom (what Maven filters into the tools' version resource). */
    private static String projectVersion() throws Exception {
        String pom = Files.readString(Path.of(System.getProperty("user.dir")).getParent().resolve("pom.xml"));
        Matcher m = Pattern.compile("<artifactId>jnetmap-parent</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
        assertTrue(m.find(), "the parent pom names its version");
        return m.group(1);
    }

    @Test
    void everyToolAnswersHelpAndVersionOnStandardOutput() throws Exception {
        String version = "jnetmap " + projectVersion() + System.lineSeparator();
        for (String tool : TOOLS) {
            if (tool.equals("capture")) {
                continue; // below, as a process
            }
            for (String help : List.of("--help", "-h")) {
                Run r = inProcess(tool, help);
                assertEquals(0, r.code(), tool + " " + help + ": " + r);
                assertTrue(r.out().startsWith("Usage: jnetmap " + tool), tool + " " + help + ": " + r);
                assertEquals("", r.err(), tool + " " + help + ": " + r);
            }
            for (String v : List.of("-V", "--version")) {
                Run r = inProcess(tool, v);
                assertEquals(new Run(0, version, ""), r, tool + " " + v);
            }
        }
        for (String help : List.of("--help", "-h", "help")) {
            Run r = inProcess(help);
            assertEquals(0, r.code(), help + ": " + r);
            for (String tool : TOOLS) {
                assertTrue(r.out().contains("\n  " + tool + " "), "bin/jnetmap " + help + " lists " + tool + ": " + r);
            }
        }
        assertEquals(new Run(0, version, ""), inProcess("--version"));
        // capture prints its messages on stderr (its pcap may be on stdout), but help and version on stdout
        for (String arg : List.of("--help", "-h")) {
            Run r = process("capture", arg);
            assertEquals(0, r.code(), r.toString());
            assertTrue(r.out().startsWith("Usage: capture") && r.out().contains("-w=FILE"), r.toString());
            assertEquals("", r.err(), r.toString());
        }
        assertEquals(new Run(0, version, ""), process("capture", "-V"));
        assertEquals(new Run(0, version, ""), process("pkt-gen", "--version"), "and the same from a process of its own");
    }

    @Test
    void aBadCommandLineIsOneLineOnStandardErrorAndExit2() throws Exception {
        for (String tool : TOOLS) {
            List<String> args = new ArrayList<>(List.of(tool));
            args.addAll(switch (tool) { // the required options, so that the unknown one is the error
                case "pkt-gen", "bridge" -> List.of("-i", "pipe{1");
                case "capture" -> List.of("-i", "pipe{1", "-w", "-");
                default -> List.of();
            });
            args.add("--no-such-option");
            String[] a = args.toArray(String[]::new);
            Run r = tool.equals("capture") ? process(a) : inProcess(a);
            assertEquals(2, r.code(), tool + ": " + r);
            assertEquals("", r.out(), tool + ": " + r);
            assertEquals(tool + ": Unknown option: '--no-such-option' (bin/jnetmap " + tool + " --help)" + System.lineSeparator(),
                    r.err(), tool);
        }
        Run r = inProcess("pkt-gen", "-i", "pipe{1", "-b", "0");
        assertEquals(new Run(2, "", "pkt-gen: -b 0 (expected: 1..65536) (bin/jnetmap pkt-gen --help)" + System.lineSeparator()), r);
        r = inProcess("pkt-gen", "-i", "pipe{1", "-S", "02:00:00:00:01");
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().startsWith("pkt-gen: mac=02:00:00:00:01 (expected: six hex bytes"), r.toString());
        r = inProcess("pkt-gen", "-i", "pipe{1", "-d", "10.0.0.300");
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().startsWith("pkt-gen: ip=10.0.0.300 (expected: an IPv4 address"), r.toString());
        r = inProcess("demo", "-t", "0");
        assertEquals(new Run(2, "", "demo: -t 0 (expected: 1..86400 seconds) (bin/jnetmap demo --help)" + System.lineSeparator()), r);
        r = inProcess("vale-ctl", "-L", "l3");
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().startsWith("vale-ctl: -L and --route are for --host"), r.toString());
        r = inProcess("nosuchtool");
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().startsWith("jnetmap: unknown tool \"nosuchtool\" (expected one of: demo, info, pkt-gen, bridge, capture, replay, vale-ctl"),
                r.toString());
        r = process();
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().startsWith("jnetmap: no tool given (expected one of: demo, info"), r.toString());
        assertEquals(1, r.err().lines().count(), r.toString());
    }

    @Test
    void aFailureIsOneLineAndExit1WithTheStackTraceOnlyWithV() {
        String sw = "valecli" + ProcessHandle.current().pid();
        Run r = inProcess("vale-ctl", "-d", sw + ":x");
        assertEquals(1, r.code(), r.toString());
        assertEquals("", r.out(), r.toString());
        assertTrue(r.err().startsWith("vale-ctl: no process hosts switch " + sw), r.toString());
        assertEquals(1, r.err().lines().count(), r.toString());

        String parent = "clifail" + ProcessHandle.current().pid();
        try (Port held = Netmap.open(parent + "{1")) {
            // the pipe end is taken by this process: bridge cannot open it
            r = inProcess("bridge", "-i", parent + "{1", "-i", parent + "}1");
            assertEquals(1, r.code(), r.toString());
            assertTrue(r.err().startsWith("bridge: cannot open " + parent + "{1"), r.toString());
            assertEquals(1, r.err().lines().count(), r.toString());
            r = inProcess("bridge", "-v", "-i", parent + "{1", "-i", parent + "}1");
            assertEquals(1, r.code(), r.toString());
            assertTrue(r.err().startsWith("bridge: cannot open " + parent + "{1"), r.toString());
            assertTrue(r.err().contains("\tat io.jnetmap."), "-v: the stack trace too: " + r);
        }
    }

    @Test
    void valeCtlActionsRunInTheOrderGivenAndMayRepeat() {
        String sw = "valeord" + ProcessHandle.current().pid();
        // -h without a value is help; with one, netmap's attach-with-host-stack (here: no host, so a failure)
        Run r = inProcess("vale-ctl", "-a", sw + ":a", "-a", sw + ":b");
        assertEquals(1, r.code(), r.toString());
        assertTrue(r.err().startsWith("vale-ctl: no process hosts switch " + sw), "repeated -a is accepted: " + r);
        r = inProcess("vale-ctl", "-h", sw + ":eth9");
        assertEquals(1, r.code(), r.toString());
        assertTrue(r.err().startsWith("vale-ctl: no process hosts switch " + sw), r.toString());
    }

    @Test
    void valeCtlCreatesListsAndRemovesAPersistentPortInOneCommandLine() {
        String sw = "valepers" + ProcessHandle.current().pid();
        try (var host = io.jnetmap.vale.ValeSwitches.create(sw, new io.jnetmap.vale.lookup.LearningBridge())) {
            Run r = inProcess("vale-ctl", "-n", sw + ":p", "-C", "256,128,1,1", "-l", sw + ":p", "-r", sw + ":p");
            assertEquals(0, r.code(), r.toString());
            List<String> lines = r.out().lines().toList();
            int first = -1;
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).startsWith(sw + "  pid ")) {
                    first = i;
                }
            }
            assertTrue(first >= 0, "-l lists the switch: " + r);
            assertTrue(lines.get(first + 2).matches(" +\\d+  p +vale,pers +\\S+ .*"), "-l after -n shows the new port: " + r);
            assertTrue(r.out().contains("removed " + sw + ":p"), r.toString());
            // -l of a port the switch does not have is an error, not an empty table
            Run gone = inProcess("vale-ctl", "-l", sw + ":p");
            assertEquals(1, gone.code(), gone.toString());
            assertEquals("vale-ctl: switch " + sw + " has no port p (it has no ports)", gone.err().trim(), gone.toString());
            assertTrue(host.portList().isEmpty(), "removed: " + host.portList());
        }
    }

    @Test
    void valeCtlColumnsStayAlignedForLongNames() {
        long[] tx = new long[SwitchFileLayout.TX_COUNTERS];
        long[] rx = new long[SwitchFileLayout.RX_COUNTERS];
        tx[SwitchFileLayout.TX_PACKETS] = 123_456_789_012L;
        rx[SwitchFileLayout.RX_BYTES] = 7;
        long[] drops = new long[SwitchFileLayout.TX_COUNTERS];
        drops[SwitchFileLayout.DROP_FULL] = 3;
        List<ValeCtl.PortInfo> ports = List.of(
                new ValeCtl.PortInfo(0, "a", SwitchFileLayout.KIND_VIRTUAL, 0, 1, "vale", tx, rx),
                new ValeCtl.PortInfo(1, "veth-with-a-rather-long-name", SwitchFileLayout.KIND_ATTACHED, SwitchFileLayout.FLAG_BACKPRESSURE, 4,
                        "af_packet/tpacket_v3+sendmmsg", drops, new long[SwitchFileLayout.RX_COUNTERS]),
                new ValeCtl.PortInfo(12, "veth-with-a-rather-long-name^", SwitchFileLayout.KIND_ATTACHED, 0, 1, "tap",
                        new long[SwitchFileLayout.TX_COUNTERS], new long[SwitchFileLayout.RX_COUNTERS]));
        StringWriter text = new StringWriter();
        ValeCtlTool.list(List.of(new ValeCtl.SwitchInfo("vale0", 42, true, 5, "learning-bridge", Path.of("x"), ports)), null,
                new PrintWriter(text, true));
        List<String> lines = text.toString().lines().toList();
        assertTrue(lines.get(0).startsWith("vale0  pid 42"), text.toString());
        assertAligned(lines.subList(1, lines.size()), text.toString());
        assertTrue(text.toString().contains("af_packet/tpacket_v3+sendmmsg"), text.toString());
    }

    @Test
    void infoShowsWhoHoldsEachPipeEndInAlignedColumns() throws Exception {
        String parent = "infoalongpipeparentname" + ProcessHandle.current().pid();
        long me = ProcessHandle.current().pid();
        try (Port mine = Netmap.open(parent + "{1")) {
            Process child = PktGenTest.startPktGen("-i", parent + "}1", "-f", "rx", "-T", "0");
            try {
                String holder = "pid " + child.pid();
                Run r = inProcess("info");
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!r.out().contains(holder)) {
                    assertTrue(child.isAlive() && System.nanoTime() < deadline, "the child opened " + parent + "}1: " + r);
                    Thread.sleep(100);
                    r = inProcess("info");
                }
                assertEquals(0, r.code(), r.toString());
                List<String> lines = r.out().lines().toList();
                int regions = lines.indexOf("shared regions in " + io.jnetmap.core.Region.directory() + ":");
                int ports = lines.indexOf("ports in them:");
                assertTrue(regions > 0 && ports > regions, r.toString());
                assertAligned(lines.subList(regions + 1, ports), r.toString());
                List<String> table = lines.subList(ports + 1, lines.size());
                assertAligned(table, r.toString());
                String region = "pipe." + parent;
                assertTrue(table.stream().anyMatch(l -> l.matches("  " + Pattern.quote(region) + " +" + Pattern.quote(parent + "{1")
                        + " +pid " + me + " .*")), "this process holds " + parent + "{1: " + r);
                assertTrue(table.stream().anyMatch(l -> l.matches("  " + Pattern.quote(region) + " +" + Pattern.quote(parent + "}1")
                        + " +" + holder + " .*")), "the child holds " + parent + "}1: " + r);
            } finally {
                child.destroy();
                assertTrue(child.waitFor(30, TimeUnit.SECONDS));
            }
            Run r = inProcess("info");
            assertTrue(r.out().lines().anyMatch(l -> l.matches("  pipe\\." + Pattern.quote(parent) + " +" + Pattern.quote(parent + "}1")
                    + " +closed .*")), "closed once the child is gone: " + r);
        }
    }

    /**
     * Lines of a table whose first line is the header: every left-aligned column (header label then
     * text) starts at its label's column, every right-aligned one (numbers) ends where its label ends.
     */
    static void assertAligned(List<String> table, String all) {
        assertFalse(table.isEmpty(), all);
        String header = table.get(0);
        Matcher m = Pattern.compile("\\S+").matcher(header);
        List<int[]> cols = new ArrayList<>();
        while (m.find()) {
            cols.add(new int[] {m.start(), m.end()});
        }
        assertTrue(cols.size() >= 2, "a header with columns: " + header);
        for (String row : table.subList(1, table.size())) {
            for (int c = 0; c < cols.size(); c++) {
                int start = cols.get(c)[0];
                int end = cols.get(c)[1];
                boolean leftAligned = row.length() > start && row.charAt(start) != ' ' && row.charAt(start - 1) == ' ';
                boolean rightAligned = row.length() >= end && row.charAt(end - 1) != ' ' && (row.length() == end || row.charAt(end) == ' ');
                assertTrue(leftAligned || rightAligned, "column " + header.substring(start, end) + " of row \"" + row
                        + "\" is out of line with its header:\n" + all);
            }
        }
    }
}
