package io.jnetmap.test;

import io.jnetmap.core.Janitor;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Region;
import io.jnetmap.examples.Main;
import io.jnetmap.examples.SelfTest;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code bin/jnetmap selftest faults} (the fault suite) passes, and what it relies on holds: the XDP
 * program of a NIC port whose owner is killed detaches by itself; the janitor removes the region a
 * killed process left and keeps those in use; (slow) the soak.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class FaultSuiteTest {
    private static final Pattern WORST = Pattern.compile("worst detection of a death: (\\d+) ms");

    private static String selftest(String... args) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        String[] all = new String[args.length + 2];
        all[0] = "selftest";
        all[1] = "faults";
        System.arraycopy(args, 0, all, 2, args.length);
        int code = Main.commandLine(out, out).execute(all);
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, text);
        assertTrue(text.contains("selftest faults: passed"), text);
        Matcher m = WORST.matcher(text);
        assertTrue(m.find(), text);
        assertTrue(Long.parseLong(m.group(1)) <= 1000, text);
        return text;
    }

    @Test
    void theXdpProgramOfAKilledNicPortOwnerDetachesByItself() {
        String out = selftest("--only", "NIC port owner");
        assertTrue(out.contains("yes (XDP detached)"), out);
    }

    @Test
    @Tag("slow")
    void theWholeSuitePasses() {
        String out = selftest();
        for (String row : new String[] {"pipe sender killed", "pipe receiver killed", "switch host killed", "remote switch port killed",
            "NIC port owner killed", "capture killed", "hostile writes: pipe + monitor", "hostile writes: remote switch port"}) {
            assertTrue(out.lines().anyMatch(l -> l.contains(row) && l.trim().endsWith("ok")), row + ": " + out);
        }
    }

    @Test
    @Tag("slow")
    void theSoakKeepsMemoryFlatLosesNothingAndConservesCounters() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        int code = Main.commandLine(out, out).execute("selftest", "soak");
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, text);
        assertTrue(text.contains("conserved exactly") && text.contains("selftest soak: passed"), text);
    }

    /**
     * The soak's memory verdict: ports opened and closed every 2 s make the samples alternate (CI's run
     * at 407d0f9 read 413..447 MB after a 15 s warm-up and failed a first-sample ±5 % band), which must
     * pass; a floor rising 0.25 % a second, as a leak of a few hundred bytes a packet would, must not.
     */
    @Test
    void theSoakComparesFloorsWithFloorsAndCatchesALeak() {
        SelfTest.RssWindows churn = new SelfTest.RssWindows(30, 90);
        SelfTest.RssWindows leak = new SelfTest.RssWindows(30, 90);
        for (long t = 1; t <= 92; t++) {
            long base = 420_000 + (t % 2 == 0 ? 22_000 : 0) + (t * 37 % 5) * 1_000; // ports open at every other sample, ±1 % noise
            churn.add(t, base);
            leak.add(t, base + t * 1_050);
        }
        assertTrue(churn.drift() <= 5, "churn: " + churn.drift() + " % " + churn);
        assertTrue(leak.drift() > 5, "leak: " + leak.drift() + " % " + leak);
        assertEquals(6, churn.toString().split(" ").length, churn.toString()); // 30..39, .., 80..89
        assertTrue(Double.isNaN(new SelfTest.RssWindows(30, 90).drift()));
    }

    @Test
    void theJanitorRemovesTheRegionOfAKilledProcessAndKeepsThoseInUse() throws Exception {
        String dead = PktGenTest.uniqueParent();
        String live = PktGenTest.uniqueParent() + "l";
        Process tx = PeerDeathTest.startTool("pkt-gen", "-i", dead + "{1", "-f", "tx", "-T", "0");
        Path deadFile = Region.directory().resolve("pipe." + dead);
        Path stats = Region.directory().resolve(".vale").resolve("valegone.999999999.stats");
        try (Port p = Netmap.open(live + "{1")) {
            ValeAcrossProcessesTest.await("the child's region", () -> Files.exists(deadFile) && Janitor.inUse(deadFile));
            tx.destroyForcibly();
            assertTrue(tx.waitFor(30, TimeUnit.SECONDS));
            Files.createDirectories(stats.getParent());
            Files.write(stats, new byte[16]);
            assertTrue(Files.exists(deadFile), "kill -9 left the region behind");
            Janitor.Sweep s = Janitor.sweep();
            assertTrue(s.removed().contains(deadFile.getFileName().toString()), s.toString());
            assertTrue(s.removed().contains(".vale/" + stats.getFileName()), s.toString());
            assertTrue(s.kept().contains("pipe." + live), s.toString());
            assertFalse(Files.exists(deadFile));
            assertTrue(Files.exists(Region.directory().resolve("pipe." + live)));
        } finally {
            tx.destroyForcibly();
            Files.deleteIfExists(stats);
        }
    }
}
