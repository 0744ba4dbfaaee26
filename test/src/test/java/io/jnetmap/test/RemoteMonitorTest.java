package io.jnetmap.test;

import io.jnetmap.examples.Main;
import io.jnetmap.vale.ctl.ValeCtl;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code capture -i valeS:a/rt} from a process that does not host the switch, all real processes:
 * {@code vale-ctl --host} hosts S, pkt-gen pong on port a and pkt-gen ping on port b (each its own
 * process, reaching S through pipes), capture in a fourth. tcpdump reads what capture wrote: every
 * request a received and every reply it sent. A capture killed mid-run does not stop the traffic.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class RemoteMonitorTest {
    private static final String A_MAC = "02:00:00:00:00:0a";
    private static final String B_MAC = "02:00:00:00:00:0b";

    /** A jnetmap tool run as a JVM of its own: {@code java … io.jnetmap.examples.Main ARGS}. */
    static List<String> java(String... args) {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC", "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                Main.class.getName()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Starts a tool whose output goes to {@code log}. */
    static Process start(Path log, String... args) throws Exception {
        return new ProcessBuilder(java(args)).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** Starts a tool in network namespace {@code ns} ({@code ip netns exec}), its output to {@code log}. */
    static Process startIn(String ns, Path log, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        cmd.addAll(java(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** Waits (up to 60 s) until {@code log} holds {@code text}; fails if {@code p} exits first. */
    static void awaitLine(Process p, Path log, String text) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.readString(log).contains(text)) {
            assertTrue(p.isAlive(), "process exited before printing \"" + text + "\": " + Files.readString(log));
            assertTrue(System.nanoTime() < deadline, "timed out waiting for \"" + text + "\": " + Files.readString(log));
            Thread.sleep(20);
        }
    }

    /** Kills what a test started and removes its scratch directory, whatever the test's outcome. */
    static void stopAndRemove(List<Process> all, Path dir) throws Exception {
        for (Process p : all) {
            p.destroyForcibly();
        }
        for (Process p : all) {
            p.waitFor(30, TimeUnit.SECONDS);
        }
        try (var s = Files.list(dir)) {
            for (Path f : s.toList()) {
                Files.deleteIfExists(f);
            }
        }
        Files.deleteIfExists(dir);
    }

    /** tcpdump's count of the packets of {@code file} matching {@code filter}. */
    static long tcpdumpCount(Path file, String filter) throws Exception {
        Process p = new ProcessBuilder("tcpdump", "-n", "-r", file.toString(), "--count", filter).redirectErrorStream(true).start();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                return String.join("\n", r.lines().toList());
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        });
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "tcpdump finished");
        String s = out.get(10, TimeUnit.SECONDS);
        assertEquals(0, p.exitValue(), s);
        return s.lines().filter(l -> l.endsWith(" packets")).mapToLong(l -> Long.parseLong(l.substring(0, l.indexOf(' '))))
                .findFirst().orElseThrow(() -> new AssertionError("tcpdump --count: " + s));
    }

    /** The thread dump of {@code p} (jcmd Thread.print, from the JDK running this test). */
    static String threadsOf(Process p) throws Exception {
        Path jcmd = Path.of(ProcessHandle.current().info().command().orElseThrow()).resolveSibling("jcmd");
        Process d = new ProcessBuilder(jcmd.toString(), String.valueOf(p.pid()), "Thread.print").redirectErrorStream(true).start();
        String out = new String(d.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(d.waitFor(60, TimeUnit.SECONDS), "jcmd finished");
        assertTrue(out.contains("\"main\""), "a thread dump: " + out);
        return out;
    }

    @Test
    void captureFromAnotherProcessSeesBothDirectionsAndItsDeathStopsNothing() throws Exception {
        String sw = "valem" + ProcessHandle.current().pid() + "n" + (System.nanoTime() & 0xffff);
        Path dir = Files.createTempDirectory("remote-monitor");
        List<Process> all = new ArrayList<>();
        try {
            Process host = start(dir.resolve("host.log"), "vale-ctl", "--host", sw);
            all.add(host);
            awaitLine(host, dir.resolve("host.log"), "hosting " + sw);
            Process pong = start(dir.resolve("pong.log"), "pkt-gen", "-i", sw + ":a", "-f", "pong", "-n", "0", "-T", "0");
            all.add(pong);
            ValeAcrossProcessesTest.await("port a in " + sw, () -> ValeCtl.find(sw).stream()
                    .anyMatch(s -> s.ports().stream().anyMatch(p -> p.name().equals("a"))));

            // a capture of a/rt in a fourth process: -c 2n ends it after n requests and n replies
            int n = 2000;
            Path file = dir.resolve("a.pcap");
            Path capLog = dir.resolve("capture.log");
            Process capture = start(capLog, "capture", "-i", sw + ":a/rt", "-w", file.toString(), "-c", String.valueOf(2 * n));
            all.add(capture);
            awaitLine(capture, capLog, "listening on " + sw + ":a/rt");
            Process ping = start(dir.resolve("ping.log"), "pkt-gen", "-i", sw + ":b", "-f", "ping", "-n", String.valueOf(n),
                    "-S", B_MAC, "-D", A_MAC, "-T", "0");
            all.add(ping);
            assertTrue(ping.waitFor(120, TimeUnit.SECONDS), "ping finished: " + Files.readString(dir.resolve("ping.log")));
            assertEquals(0, ping.exitValue(), Files.readString(dir.resolve("ping.log")));
            assertTrue(capture.waitFor(60, TimeUnit.SECONDS), "capture ended after -c packets: " + Files.readString(capLog));
            assertEquals(0, capture.exitValue(), Files.readString(capLog));
            assertTrue(Files.readString(capLog).contains((2 * n) + " packets captured"), Files.readString(capLog));
            assertEquals(2 * n, tcpdumpCount(file, ""), "tcpdump reads every packet");
            assertEquals(n, tcpdumpCount(file, "ether src " + B_MAC + " and ether dst " + A_MAC), "requests a received");
            assertEquals(n, tcpdumpCount(file, "ether src " + A_MAC + " and ether dst " + B_MAC), "replies a sent");

            // a capture killed while traffic flows: the traffic goes on, and the host lets go of it
            Path file2 = dir.resolve("b.pcap");
            Path capLog2 = dir.resolve("capture2.log");
            Process capture2 = start(capLog2, "capture", "-i", sw + ":a/rt", "-w", file2.toString());
            all.add(capture2);
            awaitLine(capture2, capLog2, "listening on " + sw + ":a/rt");
            Path pingLog2 = dir.resolve("ping2.log");
            Process ping2 = start(pingLog2, "pkt-gen", "-i", sw + ":b", "-f", "ping", "-n", String.valueOf(3 * n),
                    "-S", B_MAC, "-D", A_MAC, "-T", "0");
            all.add(ping2);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!Files.exists(file2) || Files.size(file2) < 100 * 64) { // it captured something: the relay runs
                assertTrue(System.nanoTime() < deadline, "capture2 captured nothing: " + Files.readString(capLog2));
                Thread.sleep(10);
            }
            String relay = "vale-monitor-" + sw + ":a/rt-" + capture2.pid();
            assertTrue(threadsOf(host).contains(relay), "the host relays for capture2 in thread " + relay);
            capture2.destroyForcibly(); // SIGKILL: no chance to say goodbye
            assertTrue(capture2.waitFor(30, TimeUnit.SECONDS));
            assertTrue(ping2.waitFor(120, TimeUnit.SECONDS), "ping went on after the capture died: " + Files.readString(pingLog2));
            assertEquals(0, ping2.exitValue(), Files.readString(pingLog2));
            assertTrue(Files.readString(pingLog2).contains("Received replies to " + (3 * n)), Files.readString(pingLog2));
            assertTrue(host.isAlive(), "the host lives on: " + Files.readString(dir.resolve("host.log")));
            // and frees what it gave: the relay thread serving the dead capture ends (the housekeeper reaps it)
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            String threads;
            do {
                Thread.sleep(200);
                threads = threadsOf(host);
            } while (threads.contains(relay) && System.nanoTime() < until);
            assertTrue(!threads.contains(relay) && !threads.contains("vale-monitor-"), "relay for the dead capture gone: " + threads);

            // and serves the next capture
            Path file3 = dir.resolve("c.pcap");
            Path capLog3 = dir.resolve("capture3.log");
            // "outbound" in the JVM: the monitor's copies of what a sent carry NS_TXMON through the relay and the pipe
            Process capture3 = start(capLog3, "capture", "-i", sw + ":a/rt", "-w", file3.toString(), "-c", "10", "outbound");
            all.add(capture3);
            awaitLine(capture3, capLog3, "listening on " + sw + ":a/rt");
            Process ping3 = start(dir.resolve("ping3.log"), "pkt-gen", "-i", sw + ":b", "-f", "ping", "-n", "10",
                    "-S", B_MAC, "-D", A_MAC, "-T", "0");
            all.add(ping3);
            assertTrue(capture3.waitFor(60, TimeUnit.SECONDS), Files.readString(capLog3));
            assertEquals(0, capture3.exitValue(), Files.readString(capLog3));
            assertEquals(10, tcpdumpCount(file3, ""), Files.readString(capLog3));
            assertEquals(10, tcpdumpCount(file3, "ether src " + A_MAC), "outbound: only what a sent");
        } finally {
            stopAndRemove(all, dir);
        }
    }
}
