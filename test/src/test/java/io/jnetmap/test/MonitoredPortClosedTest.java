package io.jnetmap.test;

import io.jnetmap.vale.ctl.ValeCtl;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.jnetmap.test.RemoteMonitorTest.awaitLine;
import static io.jnetmap.test.RemoteMonitorTest.java;
import static io.jnetmap.test.RemoteMonitorTest.start;
import static io.jnetmap.test.RemoteMonitorTest.stopAndRemove;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A capture of a monitor of a switch port held by another process ({@code capture -i S:a/t}, the switch hosted by
 * {@code vale-ctl --host}, the port by pkt-gen, all real processes) ends when the port closes, as tcpdump ends on a
 * device that disappears: one line ({@code capture: the monitored port S:a closed}), the counts, exit status 1, and a
 * whole file with every frame the port sent, the copies the relay still held included; SIGKILL of the port's holder
 * ends a second capture the same way, and the Pcap API's loop with an IOException saying the same.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class MonitoredPortClosedTest {
    private static final String A_MAC = "02:00:00:00:0c:0a";

    private static void awaitPortA(String sw) throws Exception {
        ValeAcrossProcessesTest.await("port a in " + sw, () -> ValeCtl.find(sw).stream()
                .anyMatch(s -> s.ports().stream().anyMatch(p -> p.name().equals("a"))));
    }

    /** The capture's end: exit 1, the line, then the counts; returns the packets it says it captured. */
    private static long ended(Process capture, Path log, String sw) throws Exception {
        assertTrue(capture.waitFor(60, TimeUnit.SECONDS), "capture ended with the port: " + Files.readString(log));
        String text = Files.readString(log);
        assertEquals(1, capture.exitValue(), text);
        String line = "capture: the monitored port " + sw + ":a closed";
        assertTrue(text.contains(line + "\n"), text);
        int at = text.indexOf("packets captured");
        assertTrue(at > text.indexOf(line), "the line, then the counts: " + text);
        String before = text.substring(0, at).strip();
        return Long.parseLong(before.substring(before.lastIndexOf('\n') + 1).strip());
    }

    @Test
    void aCaptureOfAMonitorEndsWhenThePortCloses() throws Exception {
        String sw = "valec" + ProcessHandle.current().pid() + "n" + (System.nanoTime() & 0xffff);
        Path dir = Files.createTempDirectory("monitor-closed");
        List<Process> all = new ArrayList<>();
        try {
            Process host = start(dir.resolve("host.log"), "vale-ctl", "--host", sw);
            all.add(host);
            awaitLine(host, dir.resolve("host.log"), "hosting " + sw);

            // 1. pkt-gen sends n frames on a and closes it (exits): the capture gets all n, then ends
            int n = 4000;
            Path genLog = dir.resolve("gen.log");
            Path file = dir.resolve("a.pcap");
            Path capLog = dir.resolve("capture.log");
            Process gen = start(genLog, "pkt-gen", "-i", sw + ":a", "-f", "tx", "-n", String.valueOf(n), "-R", "500",
                    "-S", A_MAC, "-T", "0");
            all.add(gen);
            awaitPortA(sw);
            Process capture = start(capLog, "capture", "-i", sw + ":a/t", "-w", file.toString());
            all.add(capture);
            awaitLine(capture, capLog, "listening on " + sw + ":a/t");
            assertTrue(gen.waitFor(120, TimeUnit.SECONDS), Files.readString(genLog));
            long got = ended(capture, capLog, sw);
            assertTrue(got > 0 && got <= n, Files.readString(capLog));
            assertEquals(got, RemoteMonitorTest.tcpdumpCount(file, "ether src " + A_MAC), "tcpdump reads every packet written");

            // 2. the port's holder killed while it sends: the same end
            Path genLog2 = dir.resolve("gen2.log");
            Path file2 = dir.resolve("b.pcap");
            Path capLog2 = dir.resolve("capture2.log");
            Process gen2 = start(genLog2, "pkt-gen", "-i", sw + ":a", "-f", "tx", "-n", "0", "-R", "2000", "-S", A_MAC, "-T", "0");
            all.add(gen2);
            awaitPortA(sw);
            Process capture2 = start(capLog2, "capture", "-i", sw + ":a/t", "-w", file2.toString());
            all.add(capture2);
            awaitLine(capture2, capLog2, "listening on " + sw + ":a/t");
            Thread.sleep(1000);
            gen2.destroyForcibly();
            long got2 = ended(capture2, capLog2, sw);
            assertTrue(got2 > 0, Files.readString(capLog2));
            assertEquals(got2, RemoteMonitorTest.tcpdumpCount(file2, "ether src " + A_MAC), "tcpdump reads every packet written");

            // 3. the Pcap API: the loop ends with an IOException saying the same, after every copy relayed
            Path genLog3 = dir.resolve("gen3.log");
            Process gen3 = start(genLog3, "pkt-gen", "-i", sw + ":a", "-f", "tx", "-n", "0", "-R", "2000", "-S", A_MAC, "-T", "0");
            all.add(gen3);
            awaitPortA(sw);
            try (io.jnetmap.capture.Pcap pcap = io.jnetmap.capture.Pcap.openLive(sw + ":a/t", 2048)) {
                long[] seen = new long[1];
                java.util.concurrent.CompletableFuture<Long> loop = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                    try {
                        return pcap.loop(0, v -> seen[0]++);
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                Thread.sleep(1000);
                gen3.destroyForcibly();
                java.util.concurrent.ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(
                        java.util.concurrent.ExecutionException.class, () -> loop.get(60, TimeUnit.SECONDS));
                assertTrue(e.getCause().getCause() instanceof io.jnetmap.capture.Pcap.CaptureEndedException, e.toString());
                assertEquals("the monitored port " + sw + ":a closed", e.getCause().getCause().getMessage());
                assertTrue(seen[0] > 0, "copies before the end: " + seen[0]);
            }
            assertTrue(host.isAlive(), "the switch's host lives on: " + Files.readString(dir.resolve("host.log")));
        } finally {
            stopAndRemove(all, dir);
        }
    }
}
