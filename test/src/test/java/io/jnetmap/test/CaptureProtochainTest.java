package io.jnetmap.test;

import io.jnetmap.capture.Pcap;
import io.jnetmap.core.nic.NetLab;
import io.jnetmap.examples.Capture;
import io.jnetmap.sys.NetNamespace;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code protochain} on a live AF_PACKET port: the program loops (a backward jump), which the kernel's
 * classic BPF refuses, so capture filters in the JVM, says so in its "listening on" line, and still
 * captures exactly the matching frames; {@code Pcap.setFilter} keeps it in the JVM too.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class CaptureProtochainTest {
    @Test
    @SuppressWarnings("try")
    void aLoopingFilterRunsInTheJvmAndSaysSo() throws Exception {
        try (NetLab lab = new NetLab()) {
            NetLab.Veth v = lab.vethPair();
            NetLab.inNs(v.nsA(), "ip", "addr", "add", "10.7.1.1/24", "dev", v.a());
            NetLab.inNs(v.nsB(), "ip", "addr", "add", "10.7.1.2/24", "dev", v.b());
            ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
            CompletableFuture<Integer> cap = CompletableFuture.supplyAsync(() -> {
                try (NetNamespace ignored = NetNamespace.enter(v.nsB())) {
                    return Capture.run(new String[] {"-i", "netmap:" + v.b(), "-c", "4", "ip protochain 1"},
                            new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
                }
            }, r -> new Thread(r, "capture").start());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!err.toString(StandardCharsets.UTF_8).contains("listening on")) {
                assertTrue(System.nanoTime() < deadline, "capture started: " + err);
                Thread.sleep(20);
            }
            String ping = NetLab.inNs(v.nsA(), "ping", "-c", "2", "-i", "0.2", "-W", "2", "10.7.1.2");
            assertTrue(ping.contains("2 received"), ping);
            assertEquals(0, cap.get(30, TimeUnit.SECONDS), err.toString(StandardCharsets.UTF_8));
            String e = err.toString(StandardCharsets.UTF_8), o = out.toString(StandardCharsets.UTF_8);
            assertTrue(e.contains("filter in the JVM (bytecode), not in the kernel: protochain loops"), e);
            assertEquals(1, e.lines().filter(l -> l.contains("protochain loops")).count(), e);
            List<String> lines = o.lines().toList();
            assertEquals(4, lines.size(), o);
            for (String l : lines) assertTrue(l.contains("ICMP echo"), o);
            // the API as well: Pcap.setFilter keeps a looping program in the JVM and says why
            try (NetNamespace ignored = NetNamespace.enter(v.nsB()); Pcap p = Pcap.openLive("netmap:" + v.b() + "@backend=packet", 262144)) {
                assertEquals("jvm", p.setFilter("ip6 protochain 17"));
                assertTrue(p.filterFallback().contains("protochain"), p.filterFallback());
                assertEquals("kernel", p.setFilter("udp"));
                assertEquals(null, p.filterFallback());
                // back to the JVM: the kernel's udp filter must not stay in front of it
                assertEquals("jvm", p.setFilter("ip protochain 1"));
                String again = NetLab.inNs(v.nsA(), "ping", "-c", "2", "-i", "0.2", "-W", "2", "10.7.1.2");
                assertTrue(again.contains("2 received"), again);
                assertNotNull(p.next(Duration.ofSeconds(5)), "an ICMP frame through the JVM filter");
            }
        }
    }
}
