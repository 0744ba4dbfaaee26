package io.jnetmap.test;

import io.jnetmap.core.ShmDirectory;

import io.jnetmap.core.nic.NetLab;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.jnetmap.test.RemoteMonitorTest.awaitLine;
import static io.jnetmap.test.RemoteMonitorTest.start;
import static io.jnetmap.test.RemoteMonitorTest.stopAndRemove;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code capture -i pipe}N/r} and {@code pipe{N/t} from a process that does not hold the pipe end, all
 * real processes: pkt-gen holds the end and publishes monitors of it ({@code $JNETMAP_DIR/.monitors});
 * capture in another process asks it for one. tcpdump reads what capture wrote. A capture killed
 * mid-run does not stop pkt-gen, whose relay thread then ends; pkt-gen's death ends the capture with
 * a clear error; a port open nowhere is a one-line error naming it. The same for a NIC port held by
 * pkt-gen inside a namespace, captured from the root namespace, where the interface does not exist.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class PipeMonitorAcrossProcessesTest {
    private static final String SRC_MAC = "02:00:00:00:00:0c";

    @RegisterExtension
    static final NetLab.Fixture NET = NetLab.fixture(1);

    /** Waits until process {@code p} publishes monitors (it has opened its port). */
    private static void awaitPublished(Process p, Path log) throws Exception {
        Path sock = ShmDirectory.path().resolve(".monitors").resolve(p.pid() + ".sock");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.exists(sock)) {
            assertTrue(p.isAlive(), "process exited before publishing: " + Files.readString(log));
            assertTrue(System.nanoTime() < deadline, "no " + sock + ": " + Files.readString(log));
            Thread.sleep(20);
        }
    }

    @Test
    void captureOfAPipeEndHeldByAnotherProcess() throws Exception {
        int id = (int) (ProcessHandle.current().pid() % 100000) * 10;
        Path dir = Files.createTempDirectory("pipe-monitor");
        List<Process> all = new ArrayList<>();
        try {
            // 1. every frame pkt-gen's pipe}N received, exactly: its holder relays them to the capture
            String rxEnd = "pipe}" + id;
            Process holder = start(dir.resolve("holder.log"), "pkt-gen", "-i", rxEnd, "-f", "rx", "-n", "0", "-T", "0");
            all.add(holder);
            awaitPublished(holder, dir.resolve("holder.log"));
            int n = 1000;
            Path file = dir.resolve("a.pcap");
            Path capLog = dir.resolve("capture.log");
            Process capture = start(capLog, "capture", "-i", rxEnd + "/r", "-w", file.toString(), "-c", String.valueOf(n));
            all.add(capture);
            awaitLine(capture, capLog, "listening on " + rxEnd + "/r");
            assertTrue(Files.readString(capLog).contains("monitor of process " + holder.pid()), Files.readString(capLog));
            Process sender = start(dir.resolve("sender.log"), "pkt-gen", "-i", "pipe{" + id, "-f", "tx", "-n", String.valueOf(n),
                    "-R", "20000", "-S", SRC_MAC, "-T", "0");
            all.add(sender);
            assertTrue(sender.waitFor(120, TimeUnit.SECONDS), Files.readString(dir.resolve("sender.log")));
            assertEquals(0, sender.exitValue(), Files.readString(dir.resolve("sender.log")));
            assertTrue(capture.waitFor(60, TimeUnit.SECONDS), "capture ended after -c packets: " + Files.readString(capLog));
            assertEquals(0, capture.exitValue(), Files.readString(capLog));
            assertTrue(Files.readString(capLog).contains(n + " packets captured"), Files.readString(capLog));
            assertEquals(n, RemoteMonitorTest.tcpdumpCount(file, ""), "tcpdump reads every frame");
            assertEquals(n, RemoteMonitorTest.tcpdumpCount(file, "ether src " + SRC_MAC + " and udp"), "pkt-gen's frames");

            // 2. what a pipe{M held by a sending pkt-gen sent (to a pkt-gen draining pipe}M)
            String txEnd = "pipe{" + (id + 1);
            Process drain = start(dir.resolve("drain.log"), "pkt-gen", "-i", "pipe}" + (id + 1), "-f", "rx", "-n", "0", "-T", "0");
            all.add(drain);
            awaitPublished(drain, dir.resolve("drain.log"));
            Path genLog = dir.resolve("gen.log");
            Process gen = start(genLog, "pkt-gen", "-i", txEnd, "-f", "tx", "-n", "0", "-R", "20000", "-S", SRC_MAC, "-T", "0");
            all.add(gen);
            awaitPublished(gen, genLog);
            Path file2 = dir.resolve("b.pcap");
            Path capLog2 = dir.resolve("capture2.log");
            Process capture2 = start(capLog2, "capture", "-i", txEnd + "/t", "-w", file2.toString(), "-c", "500");
            all.add(capture2);
            assertTrue(capture2.waitFor(60, TimeUnit.SECONDS), Files.readString(capLog2));
            assertEquals(0, capture2.exitValue(), Files.readString(capLog2));
            assertEquals(500, RemoteMonitorTest.tcpdumpCount(file2, "ether src " + SRC_MAC + " and udp"), Files.readString(capLog2));

            // 3. a capture killed while the holder sends: the holder goes on, and its relay thread ends
            Path capLog3 = dir.resolve("capture3.log");
            Process capture3 = start(capLog3, "capture", "-i", txEnd + "/t", "-w", dir.resolve("c.pcap").toString());
            all.add(capture3);
            awaitLine(capture3, capLog3, "listening on " + txEnd + "/t");
            String relay = "vale-monitor-" + txEnd + "/t-" + capture3.pid();
            assertTrue(RemoteMonitorTest.threadsOf(gen).contains(relay), "the holder relays for capture3 in thread " + relay);
            capture3.destroyForcibly();
            assertTrue(capture3.waitFor(30, TimeUnit.SECONDS));
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            String threads;
            do {
                Thread.sleep(200);
                threads = RemoteMonitorTest.threadsOf(gen);
            } while (threads.contains("vale-monitor-") && System.nanoTime() < until);
            assertTrue(!threads.contains("vale-monitor-"), "relay for the dead capture gone: " + threads);
            assertTrue(gen.isAlive(), "the holder lives on: " + Files.readString(genLog));

            // 4. the holder's death ends a capture with a clear error
            Path capLog4 = dir.resolve("capture4.log");
            Process capture4 = start(capLog4, "capture", "-i", txEnd + "/t", "-w", dir.resolve("d.pcap").toString());
            all.add(capture4);
            awaitLine(capture4, capLog4, "listening on " + txEnd + "/t");
            gen.destroyForcibly();
            assertTrue(capture4.waitFor(60, TimeUnit.SECONDS), "capture ended with its holder: " + Files.readString(capLog4));
            assertEquals(1, capture4.exitValue(), Files.readString(capLog4));
            assertTrue(Files.readString(capLog4).contains("process " + gen.pid() + ", which held " + txEnd + ", died"),
                    Files.readString(capLog4));

            // 5. a port open nowhere (its holder is dead): one line naming it
            Path capLog5 = dir.resolve("capture5.log");
            Process capture5 = start(capLog5, "capture", "-i", txEnd + "/t", "-c", "1", "-w", dir.resolve("e.pcap").toString());
            all.add(capture5);
            assertTrue(capture5.waitFor(60, TimeUnit.SECONDS), Files.readString(capLog5));
            String err = Files.readString(capLog5).strip();
            assertEquals(1, capture5.exitValue(), err);
            assertTrue(err.contains("cannot open monitor \"" + txEnd + "/t\": " + txEnd + " is not open"), err);
            assertEquals(1, err.lines().count(), "one line: " + err);
            assertTrue(!Files.exists(ShmDirectory.path().resolve(".monitors").resolve(gen.pid() + ".sock")),
                    "the dead holder's socket file was removed by the process that found it");
        } finally {
            stopAndRemove(all, dir);
        }
    }

    @Test
    void captureOfANicPortHeldByAnotherProcessInAnotherNamespace() throws Exception {
        NetLab.Veth v = NET.veth();
        Path dir = Files.createTempDirectory("nic-monitor");
        List<Process> all = new ArrayList<>();
        try {
            Path genLog = dir.resolve("gen.log");
            Process gen = RemoteMonitorTest.startIn(v.nsA(), genLog, "pkt-gen", "-i", "netmap:" + v.a(), "-f", "tx", "-n", "0", "-R", "5000",
                    "-w", "0", "-S", v.macA(), "-D", v.macB(), "-T", "0");
            all.add(gen);
            awaitPublished(gen, genLog);
            Path file = dir.resolve("n.pcap");
            Path capLog = dir.resolve("capture.log");
            Process capture = start(capLog, "capture", "-i", "netmap:" + v.a() + "/t", "-w", file.toString(), "-c", "200");
            all.add(capture);
            assertTrue(capture.waitFor(60, TimeUnit.SECONDS), Files.readString(capLog));
            assertEquals(0, capture.exitValue(), Files.readString(capLog));
            assertTrue(Files.readString(capLog).contains("monitor of process"), Files.readString(capLog));
            assertEquals(200, RemoteMonitorTest.tcpdumpCount(file, "ether src " + v.macA() + " and ether dst " + v.macB() + " and udp"),
                    Files.readString(capLog));
            assertTrue(gen.isAlive(), Files.readString(genLog));
        } finally {
            stopAndRemove(all, dir);
        }
    }
}
