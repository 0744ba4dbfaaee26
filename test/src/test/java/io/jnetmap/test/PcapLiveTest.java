package io.jnetmap.test;

import io.jnetmap.capture.Pcap;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The libpcap-like API live, on a pipe: inject on one end, filter and loop on the other. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PcapLiveTest {
    private static byte[] udp(int dport) {
        byte[] f = new byte[60];
        f[12] = 0x08;
        f[14] = 0x45;
        f[23] = 17;
        f[36] = (byte) (dport >> 8);
        f[37] = (byte) dport;
        return f;
    }

    @Test
    void injectFilterLoopAndNext() throws Exception {
        String parent = "pcap" + ProcessHandle.current().pid() + "x" + (System.nanoTime() & 0xffff);
        try (Pcap tx = Pcap.openLive(parent + "{1", 262144); Pcap rx = Pcap.openLive(parent + "}1", 262144)) {
            assertEquals("jvm", rx.setFilter("udp dst port 53"));
            for (int i = 0; i < 100; i++) {
                byte[] f = udp(i % 2 == 0 ? 53 : 80);
                while (!tx.inject(MemorySegment.ofArray(f), 0, f.length)) Thread.onSpinWait();
            }
            List<Integer> ports = new ArrayList<>();
            long n = rx.loop(50, v -> ports.add(v.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, v.offset() + 37) & 0xff));
            assertEquals(50, n);
            assertTrue(ports.stream().allMatch(p -> p == 53), ports.toString());
            assertEquals(null, rx.next(Duration.ofMillis(200)));
            assertEquals(100, rx.stats().received());
        }
    }
}
