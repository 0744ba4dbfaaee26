package io.jnetmap.test;

import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.core.nic.Frames;
import io.jnetmap.core.nic.NetLab;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code capture -w} on a NIC, as tcpdump 4.99 / libpcap 1.10 behave: the interface going down does not end it (it
 * captures again once the interface is up); the interface deleted ends it within seconds with one line
 * ({@code capture: PORT: the interface disappeared}), the counts, exit status 1, and a whole file holding every frame
 * sent before, those of the block the kernel was still filling too.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CaptureInterfaceGoneTest {
    private static void send(Port tx, byte[] dst, byte[] src, int from, int n) {
        Ring t = tx.txRing(0);
        for (int seq = from; seq < from + n; ) {
            t.sync();
            int room = t.space();
            int h = t.head();
            for (int k = 0; k < room && seq < from + n; k++, seq++) {
                Frames.write(t, h, dst, src, seq, 60);
                h = t.nextSlot(h);
            }
            t.advanceTo(h);
            t.sync();
        }
    }

    @Test
    void aDeletedInterfaceEndsTheCaptureWithEveryFrameWritten(@TempDir Path dir) throws Exception {
        try (NetLab lab = new NetLab()) {
            NetLab.Veth v = lab.vethPair();
            Path file = dir.resolve("gone.pcap");
            Path log = dir.resolve("capture.log");
            Process p = RemoteMonitorTest.startIn(v.nsB(), log, "capture", "-i", "netmap:" + v.b(), "-w", file.toString(), "ether proto 0x88b5");
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!Files.readString(log).contains("listening on")) {
                    assertTrue(p.isAlive() && System.nanoTime() < deadline, "capture started: " + Files.readString(log));
                    Thread.sleep(20);
                }
                try (Port tx = NetLab.open(v.nsA(), "netmap:" + v.a() + "@backend=packet")) {
                    send(tx, Frames.mac(v.macB()), Frames.mac(v.macA()), 0, 20);
                    Thread.sleep(200);
                    NetLab.inNs(v.nsB(), "ip", "link", "set", v.b(), "down");
                    Thread.sleep(1500);
                    assertTrue(p.isAlive(), "goes on while the interface is down: " + Files.readString(log));
                    NetLab.inNs(v.nsB(), "ip", "link", "set", v.b(), "up");
                    Thread.sleep(500);
                    send(tx, Frames.mac(v.macB()), Frames.mac(v.macA()), 20, 5); // into a block the kernel keeps for up to a second
                }
                Thread.sleep(50);
                NetLab.inNs(v.nsB(), "ip", "link", "del", v.b());
                assertTrue(p.waitFor(10, TimeUnit.SECONDS), "ended when the interface disappeared: " + Files.readString(log));
                String text = Files.readString(log);
                assertEquals(1, p.exitValue(), text);
                assertTrue(text.contains("capture: netmap:" + v.b() + ": the interface disappeared\n"), text);
                assertTrue(text.contains("25 packets captured"), text);
                assertTrue(text.indexOf("the interface disappeared") < text.indexOf("packets captured"), "the error, then the counts: " + text);
                String read = NetLab.run(List.of("tcpdump", "-n", "-r", file.toString()));
                assertEquals(25, read.lines().filter(l -> l.contains("0x88b5")).count(), read);
            } finally {
                p.destroyForcibly();
            }
        }
    }
}
