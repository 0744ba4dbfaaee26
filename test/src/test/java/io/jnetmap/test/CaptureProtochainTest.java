package io.jnetmap.test;

import io.jnetmap.capture.Pcap;
import io.jnetmap.core.nic.NetLab;
import io.jnetmap.sys.NetNamespace;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
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
            String[] oe = CaptureKernelFilterTest.captureFourWhilePinging(v, "10.7.1", "ip protochain 1");
            String o = oe[0], e = oe[1];
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
