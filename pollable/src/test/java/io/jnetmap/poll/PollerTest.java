package io.jnetmap.poll;

import io.jnetmap.sys.Affinity;
import io.jnetmap.sys.EventFd;
import io.jnetmap.sys.Linux;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.BitSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Poller over plain descriptors and over a software pollable that follows the arm/disarm protocol. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class PollerTest {
    private static final WaitStrategy[] STRATEGIES = {
        WaitStrategy.busySpin(), WaitStrategy.spinThenBlock(Duration.ofMillis(1)), WaitStrategy.block()};

    /**
     * A software "port": ready for IN when {@code pending > 0}; a producer signals the eventfd only while
     * the consumer armed the flag (the need-wake-up protocol of {@link Pollable}).
     */
    static final class SoftPollable implements Pollable {
        final EventFd efd = EventFd.create();
        final AtomicLong pending = new AtomicLong();
        volatile boolean armed;
        final AtomicInteger arms = new AtomicInteger();
        final AtomicInteger signals = new AtomicInteger();

        void produce() {
            pending.incrementAndGet();
            if (armed) {
                signals.incrementAndGet();
                efd.signal();
            }
        }

        @Override
        public int fd() {
            return efd.fd();
        }

        @Override
        public int pollNow(int interest) {
            return (interest & IN) != 0 && pending.get() > 0 ? IN : 0;
        }

        @Override
        public int arm(int interest) {
            arms.incrementAndGet();
            armed = true;
            return pollNow(interest);
        }

        @Override
        public void disarm() {
            armed = false;
            efd.drain();
        }
    }

    @Test
    void aPlainDescriptorIsReadyWhenTheKernelSaysSo() {
        try (EventFd e = EventFd.create(); Poller p = new Poller(WaitStrategy.block())) {
            Pollable fd = Pollable.ofFd(e.fd());
            p.add(fd, Pollable.IN);
            assertEquals(0, p.poll(Poller.NOW));
            e.signal();
            assertEquals(1, p.poll(Poller.NOW));
            assertSame(fd, p.ready(0));
            assertEquals(Pollable.IN, p.readyEvents(0));
            assertThrows(IndexOutOfBoundsException.class, () -> p.ready(1));
            e.drain();
            assertEquals(0, p.poll(TimeUnit.MILLISECONDS.toNanos(20)));
        }
    }

    @Test
    void aTimeoutReturnsNothingAfterTheTimeNotBefore() {
        for (WaitStrategy s : STRATEGIES) {
            try (EventFd e = EventFd.create(); Poller p = new Poller(s)) {
                p.add(Pollable.ofFd(e.fd()), Pollable.IN);
                long t0 = System.nanoTime();
                assertEquals(0, p.poll(30, TimeUnit.MILLISECONDS), s.toString());
                assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(30), s + " waited the whole timeout");
            }
        }
    }

    @Test
    void writableSocketIsReadyForOut() {
        int[] sv = Linux.socketpair(Linux.AF_UNIX, Linux.SOCK_STREAM | Linux.SOCK_NONBLOCK, 0);
        try (Poller p = new Poller(WaitStrategy.block())) {
            p.add(Pollable.ofFd(sv[0]), Pollable.OUT);
            assertEquals(1, p.poll(Poller.NOW));
            assertEquals(Pollable.OUT, p.readyEvents(0));
        } finally {
            Linux.close(sv[0]);
            Linux.close(sv[1]);
        }
    }

    @Test
    void everyStrategyWakesForAnotherThreadsWrite() throws Exception {
        for (WaitStrategy s : STRATEGIES) {
            int[] sv = Linux.socketpair(Linux.AF_UNIX, Linux.SOCK_STREAM | Linux.SOCK_NONBLOCK, 0);
            try (Poller p = new Poller(s); Arena a = Arena.ofShared()) {
                MemorySegment buf = a.allocate(8);
                p.add(Pollable.ofFd(sv[0]), Pollable.IN);
                CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                    sleep(50);
                    Linux.write(sv[1], buf, 8);
                });
                assertEquals(1, p.poll(Poller.FOREVER), s.toString());
                assertEquals(Pollable.IN, p.readyEvents(0));
                writer.get(5, TimeUnit.SECONDS);
            } finally {
                Linux.close(sv[0]);
                Linux.close(sv[1]);
            }
        }
    }

    @Test
    void blockingArmsSleepsAndDisarms() throws Exception {
        SoftPollable soft = new SoftPollable();
        try (Poller p = new Poller(WaitStrategy.block())) {
            p.add(soft, Pollable.IN);
            CompletableFuture<Void> producer = CompletableFuture.runAsync(() -> {
                while (!soft.armed) {
                    Thread.onSpinWait();
                }
                sleep(20);
                soft.produce();
            });
            assertEquals(1, p.poll(Poller.FOREVER));
            assertSame(soft, p.ready(0));
            producer.get(5, TimeUnit.SECONDS);
            assertTrue(p.blocks() >= 1, "slept in the kernel");
            assertTrue(soft.signals.get() >= 1, "the producer woke the sleeper");
            assertTrue(!soft.armed, "disarmed after waking");
        } finally {
            soft.efd.close();
        }
    }

    @Test
    void busyPeersNeverArmOrSignal() throws Exception {
        SoftPollable soft = new SoftPollable();
        try (Poller p = new Poller(WaitStrategy.busySpin())) {
            p.add(soft, Pollable.IN);
            CompletableFuture<Void> producer = CompletableFuture.runAsync(() -> {
                for (int i = 0; i < 100_000; i++) {
                    soft.produce();
                }
            });
            long seen = 0;
            while (seen < 100_000) {
                if (p.poll(TimeUnit.SECONDS.toNanos(5)) == 0) {
                    break;
                }
                seen += soft.pending.getAndSet(0);
            }
            producer.get(5, TimeUnit.SECONDS);
            assertEquals(100_000, seen);
            assertEquals(0, soft.arms.get(), "busy-spin never arms");
            assertEquals(0, soft.signals.get(), "so the producer never made a system call");
            assertEquals(0, p.blocks());
        } finally {
            soft.efd.close();
        }
    }

    @Test
    void aBlockedWaiterUsesNoCpu() throws Exception {
        for (WaitStrategy s : new WaitStrategy[] {WaitStrategy.block(), WaitStrategy.spinThenBlock(Duration.ofMillis(5))}) {
            SoftPollable soft = new SoftPollable();
            try (Poller p = new Poller(s)) {
                p.add(soft, Pollable.IN);
                AtomicLong tid = new AtomicLong();
                CompletableFuture<Integer> waiter = CompletableFuture.supplyAsync(() -> {
                    tid.set(Linux.gettid());
                    return p.poll(Poller.FOREVER);
                });
                while (tid.get() == 0 || !soft.armed) {
                    Thread.onSpinWait();
                }
                long cpu0 = cpuTicks(tid.get());
                Thread.sleep(500);
                long used = cpuTicks(tid.get()) - cpu0;
                soft.produce();
                assertEquals(1, waiter.get(5, TimeUnit.SECONDS));
                assertTrue(used <= 5, s + ": the sleeping thread used " + used + " clock ticks (1/100 s) of CPU in 500 ms");
            } finally {
                soft.efd.close();
            }
        }
    }

    @Test
    void mixedRegistrationsReportEachReadyOnce() {
        SoftPollable soft = new SoftPollable();
        try (EventFd e = EventFd.create(); Poller p = new Poller(WaitStrategy.block())) {
            Pollable fd = Pollable.ofFd(e.fd());
            p.add(soft, Pollable.IN);
            p.add(fd, Pollable.IN);
            assertThrows(IllegalArgumentException.class, () -> p.add(fd, Pollable.IN), "one registration per descriptor");
            soft.produce();
            e.signal();
            assertEquals(2, p.poll(Poller.NOW));
            p.remove(soft);
            assertEquals(1, p.poll(Poller.NOW));
            assertSame(fd, p.ready(0));
            p.setInterest(fd, Pollable.OUT);
            assertEquals(1, p.poll(Poller.NOW), "an eventfd below its maximum is writable");
            assertEquals(Pollable.OUT, p.readyEvents(0));
            assertThrows(IllegalArgumentException.class, () -> p.remove(soft));
            assertThrows(IllegalArgumentException.class, () -> p.add(soft, 0));
        } finally {
            soft.efd.close();
        }
    }

    @Test
    void thePollingThreadPinsItselfWhenAsked() throws Exception {
        int cpu = Affinity.currentThread().nextSetBit(0);
        BitSet seen = CompletableFuture.supplyAsync(() -> {
            try (Poller p = new Poller(WaitStrategy.busySpin(), cpu)) {
                p.poll(Poller.NOW);
                return Affinity.currentThread();
            }
        }, r -> new Thread(r).start()).get(5, TimeUnit.SECONDS);
        BitSet expected = new BitSet();
        expected.set(cpu);
        assertEquals(expected, seen);
    }

    @Test
    void strategiesParse() {
        assertEquals(WaitStrategy.Kind.BUSY_SPIN, WaitStrategy.parse("busy").kind());
        assertEquals(WaitStrategy.Kind.BLOCK, WaitStrategy.parse("block").kind());
        WaitStrategy s = WaitStrategy.parse("spin:50us");
        assertEquals(WaitStrategy.Kind.SPIN_THEN_BLOCK, s.kind());
        assertEquals(50_000, s.spinNanos());
        assertEquals(2_000_000, WaitStrategy.parse("spin:2ms").spinNanos());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WaitStrategy.parse("spin:x"));
        assertTrue(e.getMessage().contains("expected: busy, block or spin:DURATION"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> WaitStrategy.spinThenBlock(Duration.ZERO));
    }

    /** User + system CPU time of thread {@code tid} of this process, in clock ticks (utime and stime of /proc/.../stat). */
    static long cpuTicks(long tid) {
        try {
            String stat = Files.readString(Path.of("/proc/self/task/" + tid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
