package io.jnetmap.test;

import io.jnetmap.examples.Main;
import io.jnetmap.vale.ctl.SwitchFileLayout;
import io.jnetmap.vale.ctl.ValeCtl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * netmap's persistent ports from the command line, every actor its own process, as users run them:
 * {@code vale-ctl --host S} hosts the switch, {@code vale-ctl -n S:p1} makes a persistent port, and
 * pkt-gen in other processes opens it by name (the host binds the port for them and relays through a
 * pipe), sends and receives sequence-checked streams through it, closes it, opens it again;
 * {@code -r} removes it, after which opening {@code S:p1} makes an ordinary port, as in netmap.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class PersistentPortAcrossProcessesTest {
    private static final String N = "200000";

    private static Process jnetmap(Path log, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC", "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** Runs {@code vale-ctl args} in a process of its own; returns exit code and output. */
    private static PktGenTest.Run valeCtl(String... args) throws Exception {
        Path log = Files.createTempFile("jnetmap-valectl", ".txt");
        try {
            List<String> all = new ArrayList<>(List.of("vale-ctl"));
            all.addAll(List.of(args));
            Process p = jnetmap(log, all.toArray(String[]::new));
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "vale-ctl finished");
            return new PktGenTest.Run(p.exitValue(), Files.readString(log));
        } finally {
            Files.deleteIfExists(log);
        }
    }

    private static Optional<ValeCtl.PortInfo> port(String sw, String name) {
        return ValeCtl.find(sw).stream().flatMap(s -> s.ports().stream()).filter(p -> p.name().equals(name)).findFirst();
    }

    @Test
    void aPersistentPortIsOpenedByOtherProcessesLikeAnyPortAndRemovedWithDashR() throws Exception {
        String sw = ValeAcrossProcessesTest.uniqueSwitch();
        Path hostLog = Files.createTempFile("jnetmap-valehost", ".txt");
        Process host = jnetmap(hostLog, "vale-ctl", "--host", sw);
        try {
            ValeAcrossProcessesTest.await("the host of " + sw, () -> !ValeCtl.find(sw).isEmpty());
            PktGenTest.Run made = valeCtl("-n", sw + ":p1");
            assertEquals(0, made.code(), made.out());
            assertTrue(made.out().contains("created persistent port " + sw + ":p1"), made.out());
            int p1 = port(sw, "p1").orElseThrow().index();
            assertTrue((port(sw, "p1").orElseThrow().flags() & SwitchFileLayout.FLAG_PERSISTENT) != 0);

            // p1 receives, in another process, what a third process sends through port b
            Process rx = PktGenTest.startPktGen("-i", sw + ":p1", "-f", "rxseq", "-n", N, "-T", "500");
            Process tx = PktGenTest.startPktGen("-i", sw + ":b@backpressure=on", "-f", "txseq", "-n", N, "-T", "500");
            String txOut = PktGenTest.finish(tx, 120);
            String rxOut = PktGenTest.finish(rx, 120);
            assertTrue(rxOut.contains("Received " + N + " packets"), rxOut);
            assertTrue(rxOut.contains("Sequence: lost 0 reordered 0"), rxOut);
            assertTrue(rxOut.contains("vale@" + host.pid()), "p1 is the host's port, opened remotely: " + rxOut);
            assertTrue(txOut.contains("Sent " + N + " packets"), txOut);
            ValeAcrossProcessesTest.await("b to leave with its process", () -> port(sw, "b").isEmpty());
            ValeCtl.PortInfo kept = port(sw, "p1").orElseThrow(() -> new AssertionError("p1 outlives its opener"));
            assertEquals(p1, kept.index(), "the same port, not a new one");
            assertEquals(Long.parseLong(N), kept.rx(SwitchFileLayout.RX_PACKETS), "p1 counted what it received");

            // while a process has it open, -r refuses (netmap's rule) and says why
            Process holder = PktGenTest.startPktGen("-i", sw + ":p1", "-f", "rx", "-T", "0");
            try {
                String opened = new java.io.BufferedReader(new java.io.InputStreamReader(holder.getInputStream())).readLine();
                assertTrue(opened != null && opened.contains("backend vale@" + host.pid()), "p1 opened: " + opened);
                // one process at a time on a port's rings: a second remote opener is refused, saying by whom
                Process second = PktGenTest.startPktGen("-i", sw + ":p1", "-f", "rx", "-n", "1", "-T", "0");
                String secondOut = new String(second.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                assertTrue(second.waitFor(60, TimeUnit.SECONDS));
                assertNotEquals(0, second.exitValue(), secondOut);
                assertTrue(secondOut.contains("port " + sw + ":p1 is open by process " + holder.pid()), secondOut);
                PktGenTest.Run refused = valeCtl("-r", sw + ":p1");
                assertNotEquals(0, refused.code(), refused.out());
                assertTrue(refused.out().contains("port " + sw + ":p1 is open 1 time(s)"), refused.out());
            } finally {
                holder.destroyForcibly();
                assertTrue(holder.waitFor(30, TimeUnit.SECONDS));
            }

            // opened again, now as the sender (the host unbinds a dead opener by itself)
            Process rx2 = PktGenTest.startPktGen("-i", sw + ":b", "-f", "rxseq", "-n", N, "-T", "500");
            ValeAcrossProcessesTest.await("b to join", () -> port(sw, "b").isPresent());
            Process tx2 = PktGenTest.startPktGen("-i", sw + ":p1@backpressure=on", "-f", "txseq", "-n", N, "-T", "500");
            String tx2Out = PktGenTest.finish(tx2, 120);
            String rx2Out = PktGenTest.finish(rx2, 120);
            assertTrue(tx2Out.contains("Sent " + N + " packets"), tx2Out);
            assertTrue(rx2Out.contains("Received " + N + " packets"), rx2Out);
            assertTrue(rx2Out.contains("Sequence: lost 0 reordered 0"), rx2Out);
            assertEquals(Long.parseLong(N), port(sw, "p1").orElseThrow().tx(SwitchFileLayout.TX_PACKETS));

            // -d on a persistent port says what it did; -r removes one
            assertEquals(0, valeCtl("-n", sw + ":p2").code());
            PktGenTest.Run d = valeCtl("-d", sw + ":p2");
            assertEquals(0, d.code(), d.out());
            assertTrue(d.out().contains("removed persistent port " + sw + ":p2"), d.out());
            ValeAcrossProcessesTest.await("p1 unbound from the dead holder", () -> valeCtl0("-r", sw + ":p1"));
            assertTrue(port(sw, "p1").isEmpty(), "removed");

            // after -r, opening p1 makes an ordinary port (netmap creates one on demand): it goes with its opener
            Process again = PktGenTest.startPktGen("-i", sw + ":p1", "-f", "rx", "-T", "0");
            try {
                ValeAcrossProcessesTest.await("a new p1", () -> port(sw, "p1").isPresent());
                ValeCtl.PortInfo fresh = port(sw, "p1").orElseThrow();
                assertEquals("pipe", fresh.backend(), "the opener's pipe end, attached: " + fresh);
                assertEquals(0, fresh.flags() & SwitchFileLayout.FLAG_PERSISTENT, "not persistent");
            } finally {
                again.destroyForcibly();
                assertTrue(again.waitFor(30, TimeUnit.SECONDS));
            }
            ValeAcrossProcessesTest.await("the ordinary p1 to leave with its process", () -> port(sw, "p1").isEmpty());
        } finally {
            host.destroy();
            if (!host.waitFor(10, TimeUnit.SECONDS)) {
                host.destroyForcibly();
            }
            Files.deleteIfExists(hostLog);
        }
    }

    private static boolean valeCtl0(String... args) {
        try {
            return valeCtl(args).code() == 0;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

}
