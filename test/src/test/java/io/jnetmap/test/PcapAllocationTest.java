package io.jnetmap.test;

import io.jnetmap.capture.Pcap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.core.nic.Frames;
import io.jnetmap.core.nic.NetLab;
import io.jnetmap.sys.NetNamespace;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Pcap API's live loop on a NIC, read from the kernel's blocks, allocates nothing per packet once compiled:
 * another thread floods a veth with 60-byte frames, {@code Pcap.loop} takes them on the other end through the kernel
 * filter, and the bytes the loop's thread allocates over 300 000 packets stay below one allocation per thousand
 * packets. What remains is per wait, not per packet: the JDK's downcall of poll(2), when the JIT has not inlined it,
 * allocates its captured-state slice (~40 B a wake-up, one per full block here). Warm-up rounds repeat until one
 * allocates nothing. Needs root.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class PcapAllocationTest {
    @RegisterExtension
    static final NetLab.Fixture NET = NetLab.fixture(1);

    @Test
    @SuppressWarnings("try")
    void noAllocationPerPacketInTheLoop() throws Exception {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().threadId();
        AtomicBoolean stop = new AtomicBoolean();
        Pcap p;
        try (NetNamespace ignored = NetNamespace.enter(NET.veth().nsB())) {
            p = Pcap.openLive("netmap:" + NET.veth().b(), 262144); // tcpdump's 1 s timeout: a wait per full block
        }
        try (Pcap pcap = p; Port tx = NetLab.open(NET.veth().nsA(), "netmap:" + NET.veth().a() + "@backend=packet")) {
            assertEquals("blocks", pcap.readPath());
            assertEquals("kernel", pcap.setFilter("ether proto 0x88b5"));
            Thread sender = Thread.ofPlatform().name("pcap-alloc-sender").start(() -> flood(tx, stop));
            try {
                long[] sum = new long[1];
                Pcap.Handler h = v -> sum[0] += v.segment().get(ValueLayout.JAVA_BYTE, v.offset() + Frames.SEQ_OFFSET) + v.caplen();
                for (int round = 0; round < 30; round++) {
                    long before = mx.getThreadAllocatedBytes(tid);
                    assertEquals(100_000, pcap.loop(100_000, h));
                    if (mx.getThreadAllocatedBytes(tid) - before == 0) {
                        break;
                    }
                }
                long before = mx.getThreadAllocatedBytes(tid);
                assertEquals(300_000, pcap.loop(300_000, h));
                long allocated = mx.getThreadAllocatedBytes(tid) - before;
                assertTrue(allocated < 16 * 1024, allocated + " bytes allocated for 300000 packets");
                assertTrue(sum[0] != 0);
            } finally {
                stop.set(true);
                sender.join(TimeUnit.SECONDS.toMillis(30));
            }
        }
    }

    /** Sends 60-byte test frames from a until {@code stop}, a ring's worth at a time. */
    static void flood(Port tx, AtomicBoolean stop) {
        Ring t = tx.txRing(0);
        byte[] dst = Frames.mac(NET.veth().macB());
        byte[] src = Frames.mac(NET.veth().macA());
        for (int i = 0; i < t.numSlots(); i++) {
            Frames.write(t, i, dst, src, i, 60);
        }
        while (!stop.get()) {
            int n = Math.min(t.space(), 256);
            t.advanceTo(t.slotAfter(t.head(), n));
            t.sync();
            if (n == 0) {
                Thread.onSpinWait();
            }
        }
    }
}
