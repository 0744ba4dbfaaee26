package io.jnetmap.pipe;

import io.jnetmap.core.Ring;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.management.ManagementFactory;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pipe hot path allocates nothing per packet, on the sending and the receiving thread: bytes
 * allocated over a million packets stay below what one small object per packet would cost (the
 * JVM's per-thread allocation counter, not a timer).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PipeAllocationTest {
    static final long PACKETS = 1_000_000;

    @Test
    void neitherEndAllocatesPerPacket() throws Exception {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        String parent = Pipes.uniqueParent();
        try (PipePort tx = Pipes.open(parent + "{1@conf:pipes=1,slots=256"); PipePort rx = Pipes.open(parent + "}1")) {
            for (int round = 0; round < 2; round++) { // the first round compiles the loops
                CompletableFuture<Long> receiver = CompletableFuture.supplyAsync(() -> {
                    long before = mx.getCurrentThreadAllocatedBytes();
                    Ring r = rx.rxRing(0);
                    long got = 0;
                    long sum = 0;
                    while (got < PACKETS) {
                        r.sync();
                        int i = r.head();
                        for (int n = r.space(); n > 0; n--) {
                            sum += r.memory().get(JAVA_LONG_UNALIGNED, r.bufOffset(i));
                            i = r.nextSlot(i);
                            got++;
                        }
                        r.advanceTo(i);
                    }
                    r.sync();
                    return mx.getCurrentThreadAllocatedBytes() - before + (sum == 42 ? 1 : 0);
                }, runnable -> new Thread(runnable).start());
                long before = mx.getCurrentThreadAllocatedBytes();
                Ring t = tx.txRing(0);
                long sent = 0;
                while (sent < PACKETS) {
                    int i = t.head();
                    int n = (int) Math.min(t.space(), PACKETS - sent);
                    for (int k = 0; k < n; k++) {
                        t.memory().set(JAVA_LONG_UNALIGNED, t.bufOffset(i), sent + k);
                        t.setSlot(i, 60, 0);
                        i = t.nextSlot(i);
                    }
                    t.advanceTo(i);
                    t.sync();
                    sent += n;
                }
                long sender = mx.getCurrentThreadAllocatedBytes() - before;
                long receiverBytes = receiver.get(30, TimeUnit.SECONDS);
                if (round == 1) {
                    assertTrue(sender < 16 * 1024, sender + " bytes allocated sending " + PACKETS + " packets");
                    assertTrue(receiverBytes < 16 * 1024, receiverBytes + " bytes allocated receiving " + PACKETS + " packets");
                }
            }
            assertEquals(0, tx.wakeupsSent() + rx.wakeupsSent(), "busy ends: no wake-up system call");
        }
    }
}
