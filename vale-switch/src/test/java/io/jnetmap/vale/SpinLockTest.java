package io.jnetmap.vale;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The switch's one spin lock: mutual exclusion and visibility under contention, tryLock never waits. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SpinLockTest {
    /** Guarded fields after the lock's pad, as DstRing's are. */
    static final class Counter extends SpinLock {
        long a;
        long b;
    }

    @Test
    void contendingThreadsNeverOverlapAndSeeEachOthersWrites() throws Exception {
        int threads = Math.max(4, Runtime.getRuntime().availableProcessors() * 2); // more threads than cores: holders get preempted
        int rounds = 200_000;
        Counter c = new Counter();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> ts = new ArrayList<>();
        long[] torn = new long[threads];
        for (int t = 0; t < threads; t++) {
            int id = t;
            ts.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                for (int i = 0; i < rounds; i++) {
                    if ((i & 7) == 0) {
                        while (!c.tryLock()) {
                            Thread.onSpinWait();
                        }
                    } else {
                        c.lock();
                    }
                    try {
                        // a and b move together: another holder in here at the same time would tear them
                        if (c.a != c.b) {
                            torn[id]++;
                        }
                        c.a++;
                        c.b++;
                    } finally {
                        c.unlock();
                    }
                }
            }));
        }
        start.countDown();
        for (Thread t : ts) {
            t.join();
        }
        c.lock();
        try {
            assertEquals((long) threads * rounds, c.a, "every increment under the lock counted once");
            assertEquals(c.a, c.b);
        } finally {
            c.unlock();
        }
        for (long n : torn) {
            assertEquals(0, n, "two threads held the lock at once");
        }
    }

    @Test
    void tryLockFailsWithoutWaitingWhileHeldAndUnlockFreesIt() throws Exception {
        SpinLock l = new SpinLock();
        assertFalse(l.isHeld());
        l.lock();
        assertTrue(l.isHeld());
        boolean[] got = new boolean[1];
        Thread t = Thread.ofPlatform().start(() -> got[0] = l.tryLock());
        t.join();
        assertFalse(got[0], "tryLock of a held lock fails at once");
        l.unlock();
        assertFalse(l.isHeld());
        Thread u = Thread.ofPlatform().start(() -> got[0] = l.tryLock());
        u.join();
        assertTrue(got[0], "another thread takes it once unlocked");
        assertTrue(l.isHeld());
    }
}
