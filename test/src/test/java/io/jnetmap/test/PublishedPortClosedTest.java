package io.jnetmap.test;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.core.nic.Frames;
import io.jnetmap.examples.Main;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code capture -i pipe{N/t} of a pipe end this test process holds (and so publishes): when the test closes the end,
 * staying alive, the capture ends with {@code capture: the monitored port pipe{N closed (in process PID)}, the counts
 * and exit status 1, and its file holds exactly the frames sent while it listened.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PublishedPortClosedTest {
    private static final byte[] SRC = Frames.mac("02:00:00:00:0d:01");
    private static final byte[] DST = Frames.mac("02:00:00:00:0d:02");

    @Test
    void aCaptureEndsWhenTheHolderClosesThePort() throws Exception {
        int id = (int) (ProcessHandle.current().pid() % 100000) * 10 + 7;
        Path dir = Files.createTempDirectory("published-closed");
        Process capture = null;
        try {
            Port tx = Netmap.open("pipe{" + id);
            try (Port rx = Netmap.open("pipe}" + id)) {
                Path file = dir.resolve("t.pcap");
                Path log = dir.resolve("capture.log");
                List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                        "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC", "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                        Main.class.getName(), "capture", "-i", "pipe{" + id + "/t", "-w", file.toString()));
                capture = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!Files.readString(log).contains("listening on")) {
                    assertTrue(capture.isAlive() && System.nanoTime() < deadline, "capture started: " + Files.readString(log));
                    Thread.sleep(20);
                }
                int n = 600;
                Ring t = tx.txRing(0);
                for (int seq = 0; seq < n; ) {
                    int h = t.head();
                    for (int k = 0; k < 20 && t.space() > 0 && seq < n; k++, seq++) {
                        Frames.write(t, h, DST, SRC, seq, 60);
                        h = t.nextSlot(h);
                        t.advanceTo(h);
                    }
                    tx.txSync();
                    rx.rxSync();
                    Ring r = rx.rxRing(0);
                    r.advanceTo(r.tail());
                    rx.rxSync();
                    Thread.sleep(2); // the relay keeps up: a monitor drops what its ring has no room for
                }
                Thread.sleep(200);
                tx.close(); // the holder lives on
                assertTrue(capture.waitFor(30, TimeUnit.SECONDS), "capture ended with the port: " + Files.readString(log));
                String text = Files.readString(log);
                assertEquals(1, capture.exitValue(), text);
                String line = "capture: the monitored port pipe{" + id + " closed (in process " + ProcessHandle.current().pid() + ")";
                assertTrue(text.contains(line + "\n"), text);
                assertTrue(text.contains(n + " packets captured"), text);
                assertEquals(n, RemoteMonitorTest.tcpdumpCount(file, "ether src 02:00:00:00:0d:01"), text);
            } finally {
                tx.close();
            }
        } finally {
            if (capture != null) {
                capture.destroyForcibly();
                capture.waitFor(30, TimeUnit.SECONDS);
            }
            try (var s = Files.list(dir)) {
                for (Path f : s.toList()) {
                    Files.deleteIfExists(f);
                }
            }
            Files.deleteIfExists(dir);
        }
    }
}
