package io.jnetmap.test;

import io.jnetmap.core.LoopbackPort;
import io.jnetmap.core.Ring;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ring hot path allocates nothing per packet: bytes allocated by this thread over a million
 * packets through fill / txsync / rxsync / release stay below what a single packet allocating even
 * one small object would cost (checked with the JVM's per-thread allocation counter, not a timer).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AllocationTest {
    @Test
    void noAllocationPerPacket() {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (LoopbackPort p = LoopbackPort.open("netmap:alloc", 1024, 0)) {
            Ring t = p.txRing(0);
            Ring r = p.rxRing(0);
            cycle(t, r, 200_000); // warm up: compile the loop
            long tid = Thread.currentThread().threadId();
            long before = mx.getThreadAllocatedBytes(tid);
            long packets = cycle(t, r, 1_000_000);
            long allocated = mx.getThreadAllocatedBytes(tid) - before;
            assertTrue(packets >= 1_000_000);
            assertTrue(allocated < 16 * 1024, allocated + " bytes allocated for " + packets + " packets");
        }
    }

    private static long cycle(Ring t, Ring r, long packets) {
        long done = 0;
        long sum = 0;
        while (done < packets) {
            int i = t.head();
            int n = Math.min(256, t.space());
            for (int k = 0; k < n; k++) {
                t.memory().set(JAVA_LONG_UNALIGNED, t.bufOffset(i), done + k);
                t.setSlot(i, 60, 0);
                i = t.nextSlot(i);
            }
            t.advanceTo(i);
            t.sync();
            r.sync();
            int j = r.head();
            while (j != r.tail()) {
                sum += r.memory().get(JAVA_LONG_UNALIGNED, r.bufOffset(j));
                j = r.nextSlot(j);
                done++;
            }
            r.advanceTo(j);
            r.sync();
        }
        return done + (sum == 42 ? 1 : 0);
    }
}
