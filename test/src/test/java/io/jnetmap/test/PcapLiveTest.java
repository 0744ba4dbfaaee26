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
            assertEquals("slots", rx.readPath()); // a pipe: its RX slots
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

    /** inbound/outbound in the JVM: a monitor's copies of what its port sent are outbound, what it received inbound. */
    @Test
    void inboundAndOutboundOnAMonitor() throws Exception {
        String parent = "pcapd" + ProcessHandle.current().pid() + "x" + (System.nanoTime() & 0xffff);
        try (Pcap a = Pcap.openLive(parent + "{1", 262144); Pcap b = Pcap.openLive(parent + "}1", 262144);
             Pcap out = Pcap.openLive(parent + "{1/rt", 262144); Pcap in = Pcap.openLive(parent + "{1/rt", 262144)) {
            assertEquals("jvm", out.setFilter("outbound and udp"));
            assertEquals("jvm", in.setFilter("inbound"));
            for (int i = 0; i < 3; i++) {
                byte[] f = udp(53);
                while (!a.inject(MemorySegment.ofArray(f), 0, f.length)) Thread.onSpinWait(); // sent by {1
            }
            for (int i = 0; i < 2; i++) {
                byte[] f = udp(80);
                while (!b.inject(MemorySegment.ofArray(f), 0, f.length)) Thread.onSpinWait();
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (a.next(Duration.ofMillis(50)) != null || System.nanoTime() < deadline && a.stats().received() < 2) {
                Thread.onSpinWait(); // {1 receives what }1 sent: its RX sync copies them to the monitors
            }
            List<Integer> sent = new ArrayList<>();
            List<Integer> received = new ArrayList<>();
            assertEquals(3, out.loop(3, v -> sent.add(v.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, v.offset() + 37) & 0xff)));
            assertEquals(2, in.loop(2, v -> received.add(v.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, v.offset() + 37) & 0xff)));
            assertEquals(List.of(53, 53, 53), sent);
            assertEquals(List.of(80, 80), received);
            assertEquals(null, out.next(Duration.ofMillis(200)));
        }
    }
}
