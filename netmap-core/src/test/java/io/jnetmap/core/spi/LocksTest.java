package io.jnetmap.core.spi;

import io.jnetmap.core.NetmapException;
import io.jnetmap.sys.Linux;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link SpinLock} and {@link PidLock}: mutual exclusion under contention, and a dead holder's word stolen. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LocksTest {
    private static final int THREADS = 4;
    private static final int ROUNDS = 20_000;

    /** A counter whose read-modify-write is not atomic: lost updates show a broken lock. */
    private static final class Guarded {
        long a;
        long b;
    }

    private static void contend(Runnable lock, Runnable unlock, Guarded g, int rounds) throws InterruptedException {
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < THREADS; t++) {
            threads.add(Thread.ofPlatform().uncaughtExceptionHandler((th, e) -> failures.add(e)).start(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < rounds; i++) {
                    lock.run();
                    try {
                        long a = g.a;
                        g.b++;
                        Thread.onSpinWait();
                        g.a = a + 1;
                    } finally {
                        unlock.run();
                    }
                }
            }));
        }
        start.countDown();
        for (Thread t : threads) {
            t.join();
        }
        if (!failures.isEmpty()) {
            throw new AssertionError("a contending thread failed", failures.getFirst());
        }
    }

    @Test
    void spinLockExcludesUnderContention() throws InterruptedException {
        SpinLock lock = new SpinLock();
        Guarded g = new Guarded();
        contend(lock::lock, lock::unlock, g, ROUNDS);
        assertEquals((long) THREADS * ROUNDS, g.a);
        assertEquals(g.a, g.b);
        assertFalse(lock.isLocked());
        assertTrue(lock.tryLock());
        assertTrue(lock.isLocked());
        assertFalse(lock.tryLock(), "not reentrant");
        lock.unlock();
        assertFalse(lock.isLocked());
    }

    @Test
    void pidLockExcludesThreadsAndHoldsThePid() throws InterruptedException {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment m = arena.allocate(64, 8);
            PidLock lock = new PidLock(m, 8, "test lock");
            Guarded g = new Guarded();
            contend(() -> {
                lock.lock(10, TimeUnit.SECONDS);
                assertEquals(Linux.getpid(), m.get(JAVA_LONG, 8));
            }, lock::unlock, g, ROUNDS / 10);
            assertEquals((long) THREADS * ROUNDS / 10, g.a);
            assertEquals(0, lock.lvOwner());
            lock.lock(1, TimeUnit.SECONDS);
            assertThrows(IllegalStateException.class, () -> lock.lock(1, TimeUnit.SECONDS), "not reentrant");
            lock.unlock();
            assertThrows(IllegalStateException.class, lock::unlock);
        }
    }

    @Test
    void pidLockStealsFromADeadProcessAndWaitsForALiveOne() throws Exception {
        Process dead = new ProcessBuilder("true").start();
        assertTrue(dead.waitFor(10, TimeUnit.SECONDS));
        Process live = new ProcessBuilder("sleep", "60").start();
        try (Arena arena = Arena.ofShared()) {
            MemorySegment m = arena.allocate(16, 8);
            PidLock lock = new PidLock(m, 0, "test lock");

            m.set(JAVA_LONG, 0, dead.pid());
            assertFalse(Linux.processAlive((int) dead.pid()));
            assertTrue(lock.tryLock(), "a dead holder's word is taken");
            assertEquals(Linux.getpid(), lock.lvOwner());
            lock.unlock();
            assertEquals(0, lock.lvOwner());

            m.set(JAVA_LONG, 0, dead.pid());
            lock.lock(5, TimeUnit.SECONDS);
            assertEquals(Linux.getpid(), lock.lvOwner());
            lock.unlock();

            m.set(JAVA_LONG, 0, live.pid());
            assertFalse(lock.tryLock(), "a live holder keeps it");
            NetmapException e = assertThrows(NetmapException.class, () -> lock.lock(50, TimeUnit.MILLISECONDS));
            assertTrue(e.getMessage().contains("test lock is held by live process " + live.pid()), e.getMessage());
            assertEquals(live.pid(), lock.lvOwner());

            // the live holder releases it (as its unlock would) while this process waits
            Thread release = Thread.ofPlatform().start(() -> {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException ignored) {
                    // release now
                }
                m.set(JAVA_LONG, 0, 0L);
            });
            lock.lock(10, TimeUnit.SECONDS);
            release.join();
            assertEquals(Linux.getpid(), lock.lvOwner());
            lock.unlock();

            // a process that stole the word from this one keeps it: unlock only clears this pid
            lock.lock(1, TimeUnit.SECONDS);
            m.set(JAVA_LONG, 0, live.pid());
            lock.unlock();
            assertEquals(live.pid(), lock.lvOwner());
        } finally {
            live.destroyForcibly();
            live.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void pidLockNeedsAnAlignedWord() {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment m = arena.allocate(16, 8);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new PidLock(m, 4, "x"));
            assertTrue(e.getMessage().contains("offset=4 (expected: an 8-byte aligned word"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> new PidLock(m, 16, "x"));
        }
    }
}
