package io.jnetmap.test;

import io.jnetmap.core.Port;
import io.jnetmap.core.nic.Frames;
import io.jnetmap.core.nic.NetLab;
import io.jnetmap.core.Ring;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * NIC ports allocate nothing per packet once the JIT has compiled their loop: frames go out of one end
 * of a veth pair and are taken from the other, in one thread; the bytes this thread allocates over
 * 300 000 frames stay below what one allocation per thousand frames would cost. Warm-up rounds repeat
 * until one allocates nothing (on a busy machine C2 takes a while to compile the loop). Needs root.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NicAllocationTest {
    @RegisterExtension
    static final NetLab.Fixture NET = NetLab.fixture(1);


    @ParameterizedTest(name = "backend {0}")
    @ValueSource(strings = {"xdp", "packet"})
    void noAllocationPerPacket(String backend) {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().threadId();
        try (Port tx = NetLab.open(NET.veth().nsA(), "netmap:" + NET.veth().a() + "@backend=" + backend);
             Port rx = NetLab.open(NET.veth().nsB(), "netmap:" + NET.veth().b() + "@backend=" + backend)) {
            Ring t = tx.txRing(0);
            Ring r = rx.rxRing(0);
            byte[] dst = Frames.mac(NET.veth().macB());
            byte[] src = Frames.mac(NET.veth().macA());
            for (int i = 0; i < t.numSlots(); i++) {
                Frames.write(t, i, dst, src, i, 60);
            }
            for (int round = 0; round < 20; round++) {
                long before = mx.getThreadAllocatedBytes(tid);
                cycle(t, r, 100_000);
                if (mx.getThreadAllocatedBytes(tid) - before == 0) {
                    break;
                }
            }
            long before = mx.getThreadAllocatedBytes(tid);
            long packets = cycle(t, r, 300_000);
            long allocated = mx.getThreadAllocatedBytes(tid) - before;
            assertTrue(allocated < 16 * 1024, allocated + " bytes allocated for " + packets + " packets on " + tx.backend());
        }
    }

    /** Sends and receives about {@code packets} frames, at most a ring's worth in flight. */
    private static long cycle(Ring t, Ring r, long packets) {
        long received = 0;
        long sum = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (received < packets && System.nanoTime() < deadline) {
            int n = Math.min(t.space(), 256);
            t.advanceTo(t.slotAfter(t.head(), n));
            t.sync();
            r.sync();
            int j = r.head();
            int tail = r.tail();
            while (j != tail) {
                sum += r.len(j);
                j = r.nextSlot(j);
                received++;
            }
            r.advanceTo(j);
        }
        if (received < packets) {
            fail("received " + received + " of " + packets + " frames in time");
        }
        return received + (sum == 42 ? 1 : 0);
    }
}
