package io.jnetmap.poll;

import io.jnetmap.sys.Affinity;
import io.jnetmap.sys.Epoll;
import io.jnetmap.sys.Linux;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * Waits on any mix of ports and plain descriptors, netmap's {@code poll()} over many descriptors: one
 * epoll instance, the {@link Pollable} protocol for ports (look, arm the need-wake-up flags, look again,
 * sleep, disarm) and a {@link WaitStrategy} for what to do while nothing is ready.
 *
 * <pre>{@code
 * try (Poller poller = new Poller(WaitStrategy.spinThenBlock(Duration.ofMicros(50)))) {
 *     poller.add(port.pollable(), Pollable.IN);
 *     poller.add(Pollable.ofFd(socketFd), Pollable.IN);
 *     while (running) {
 *         int n = poller.poll(TimeUnit.SECONDS.toNanos(1));
 *         for (int k = 0; k < n; k++) {
 *             handle(poller.ready(k), poller.readyEvents(k));
 *         }
 *     }
 * }
 * }</pre>
 *
 * <p>While only ports are registered, looking costs no system call: {@code pollNow} reads shared memory
 * (and syncs the rings). Plain descriptors are asked of the kernel with one {@code epoll_wait(0)} per
 * look, whatever their number. A sleep is one {@code epoll_wait}; producers signal a port's descriptor
 * only while the flags are armed, so the sleeping thread uses no CPU and busy peers make no system call.
 *
 * <p>One thread polls (the one that calls {@link #poll}); registration happens on that thread too. With
 * a CPU given, that thread pins itself to it on its first {@link #poll}. {@link #poll} allocates nothing.
 */
public final class Poller implements AutoCloseable {
    /** {@link #poll(long)} timeout: wait until something is ready. */
    public static final long FOREVER = -1;
    /** {@link #poll(long)} timeout: look once, never wait. */
    public static final long NOW = 0;

    private static final int EPOLL_BATCH = 64;
    /** While spinning, the clock is read every (CLOCK_EVERY + 1) looks. */
    private static final int CLOCK_EVERY = 7;

    private final WaitStrategy strategy;
    private final int cpu;
    private final Epoll epoll = new Epoll(EPOLL_BATCH);
    private Thread pinnedThread;

    private Pollable[] regs = new Pollable[8];
    private int[] interest = new int[8];
    private boolean[] plain = new boolean[8];
    /** Events found ready for registration i by the current poll (0 = not ready). */
    private int[] readyEvents = new int[8];
    /** Registrations ready, in the order found. */
    private int[] readyIdx = new int[8];
    private int count;
    private int plainCount;
    private int readyCount;
    private long blocks;

    /** A poller that waits with {@code strategy}, without pinning. */
    public Poller(WaitStrategy strategy) {
        this(strategy, -1);
    }

    /**
     * A poller that waits with {@code strategy}; if {@code cpu >= 0}, the polling thread pins itself to
     * that CPU on its first {@link #poll} (OpenOnload's advice for a spinning thread).
     */
    public Poller(WaitStrategy strategy, int cpu) {
        if (strategy == null) {
            throw new IllegalArgumentException("strategy=null (expected: busySpin(), spinThenBlock(d) or block())");
        }
        this.strategy = strategy;
        this.cpu = cpu;
    }

    public WaitStrategy strategy() {
        return strategy;
    }

    /** Number of registered pollables. */
    public int size() {
        return count;
    }

    /** How many times {@link #poll} went to sleep in the kernel (0 while spinning found work). */
    public long blocks() {
        return blocks;
    }

    /**
     * Registers {@code p} for {@code interest} ({@link Pollable#IN}, {@link Pollable#OUT} or both). A
     * pollable (and a descriptor) may be registered once.
     */
    public void add(Pollable p, int interest) {
        checkInterest(interest);
        if (indexOf(p) >= 0) {
            throw new IllegalArgumentException(p + " is already registered");
        }
        if (count == regs.length) {
            int n = count * 2;
            regs = Arrays.copyOf(regs, n);
            this.interest = Arrays.copyOf(this.interest, n);
            plain = Arrays.copyOf(plain, n);
            readyEvents = Arrays.copyOf(readyEvents, n);
            readyIdx = Arrays.copyOf(readyIdx, n);
        }
        int i = count;
        epoll.add(p.fd(), p.fdEvents(interest), i);
        regs[i] = p;
        this.interest[i] = interest;
        plain[i] = p instanceof FdPollable;
        readyEvents[i] = 0;
        count++;
        if (plain[i]) {
            plainCount++;
        }
    }

    /** Changes what {@code p} is polled for. */
    public void setInterest(Pollable p, int interest) {
        checkInterest(interest);
        int i = require(p);
        this.interest[i] = interest;
        epoll.modify(p.fd(), p.fdEvents(interest), i);
    }

    /** Unregisters {@code p} (its descriptor stays open). */
    public void remove(Pollable p) {
        int i = require(p);
        epoll.remove(p.fd());
        if (plain[i]) {
            plainCount--;
        }
        int last = --count;
        if (i != last) {
            regs[i] = regs[last];
            interest[i] = interest[last];
            plain[i] = plain[last];
            epoll.modify(regs[i].fd(), regs[i].fdEvents(interest[i]), i);
        }
        regs[last] = null;
        readyEvents[i] = 0;
        readyEvents[last] = 0;
        readyCount = 0;
    }

    private static void checkInterest(int interest) {
        if (interest == 0 || (interest & ~(Pollable.IN | Pollable.OUT)) != 0) {
            throw new IllegalArgumentException("interest=" + interest + " (expected: IN, OUT or IN|OUT)");
        }
    }

    private int indexOf(Pollable p) {
        for (int i = 0; i < count; i++) {
            if (regs[i] == p || regs[i].fd() == p.fd()) {
                return i;
            }
        }
        return -1;
    }

    private int require(Pollable p) {
        for (int i = 0; i < count; i++) {
            if (regs[i] == p) {
                return i;
            }
        }
        throw new IllegalArgumentException(p + " is not registered");
    }

    /**
     * Waits until at least one registered pollable is ready or {@code timeoutNanos} passed
     * ({@link #FOREVER}, {@link #NOW}). Ports are synced as netmap's poll() does. Returns the number of
     * ready pollables: {@link #ready(int)} and {@link #readyEvents(int)} for {@code 0 <= k <} that.
     */
    public int poll(long timeoutNanos) {
        pinIfAsked();
        long start = timeoutNanos > 0 ? System.nanoTime() : 0;
        if (scan() > 0 || timeoutNanos == NOW) {
            return readyCount;
        }
        long deadline = timeoutNanos < 0 ? Long.MAX_VALUE : start + timeoutNanos;
        if (strategy.kind() != WaitStrategy.Kind.BLOCK) {
            long spinUntil = strategy.kind() == WaitStrategy.Kind.BUSY_SPIN ? deadline
                    : Math.min(deadline, System.nanoTime() + strategy.spinNanos());
            for (int spins = 1; ; spins++) {
                Thread.onSpinWait();
                if (scan() > 0) {
                    return readyCount;
                }
                if ((spins & CLOCK_EVERY) != 0) {
                    continue; // reading the clock costs as much as a look: do it every few looks only
                }
                long now = System.nanoTime();
                if (now - spinUntil >= 0) {
                    if (now - deadline >= 0) {
                        return 0;
                    }
                    break;
                }
            }
        }
        return sleep(deadline);
    }

    /** As {@link #poll(long)} with a timeout in {@code unit}. */
    public int poll(long timeout, TimeUnit unit) {
        return poll(timeout < 0 ? FOREVER : unit.toNanos(timeout));
    }

    /** The {@code k}-th ready pollable of the last {@link #poll}. */
    public Pollable ready(int k) {
        return regs[readyIdx[checkReady(k)]];
    }

    /** What the {@code k}-th ready pollable is ready for ({@link Pollable#IN}, {@link Pollable#OUT}, {@link Pollable#ERR}). */
    public int readyEvents(int k) {
        return readyEvents[readyIdx[checkReady(k)]];
    }

    private int checkReady(int k) {
        if (k < 0 || k >= readyCount) {
            throw new IndexOutOfBoundsException("ready " + k + " (expected: 0.." + (readyCount - 1) + ")");
        }
        return k;
    }

    private void pinIfAsked() {
        if (cpu >= 0 && pinnedThread != Thread.currentThread()) {
            Affinity.pinCurrentThread(cpu);
            pinnedThread = Thread.currentThread();
        }
    }

    private void clearReady() {
        for (int k = 0; k < readyCount; k++) {
            readyEvents[readyIdx[k]] = 0;
        }
        readyCount = 0;
    }

    private void mark(int i, int events) {
        if (readyEvents[i] == 0) {
            readyIdx[readyCount++] = i;
        }
        readyEvents[i] |= events;
    }

    /** One look at everything: pollNow on ports, one epoll_wait(0) for plain descriptors. */
    private int scan() {
        clearReady();
        scanPorts();
        if (plainCount > 0) {
            collectPlain(epoll.await(0));
        }
        return readyCount;
    }

    private void scanPorts() {
        for (int i = 0; i < count; i++) {
            if (!plain[i]) {
                int r = regs[i].pollNow(interest[i]);
                if (r != 0) {
                    mark(i, r);
                }
            }
        }
    }

    /** Marks the plain descriptors among the {@code n} results of the last epoll_wait. */
    private void collectPlain(int n) {
        for (int e = 0; e < n; e++) {
            int i = (int) epoll.data(e);
            if (i < count && plain[i]) {
                int ev = epoll.events(e);
                int r = ev & interest[i];
                if ((ev & (Linux.EPOLLERR | Linux.EPOLLHUP)) != 0) {
                    r |= Pollable.ERR;
                }
                if (r != 0) {
                    mark(i, r);
                }
            }
        }
    }

    /** Arms every port, sleeps in epoll_wait until {@code deadline}, disarms; repeats on spurious wake-ups. */
    private int sleep(long deadline) {
        while (true) {
            clearReady();
            for (int i = 0; i < count; i++) {
                if (!plain[i]) {
                    int r = regs[i].arm(interest[i]);
                    if (r != 0) {
                        mark(i, r);
                    }
                }
            }
            if (readyCount == 0) {
                blocks++;
                collectPlain(epoll.await(timeoutMs(deadline)));
            }
            for (int i = 0; i < count; i++) {
                if (!plain[i]) {
                    regs[i].disarm();
                }
            }
            if (readyCount > 0) {
                return readyCount;
            }
            scanPorts();
            if (readyCount > 0 || System.nanoTime() - deadline >= 0) {
                return readyCount;
            }
        }
    }

    private static int timeoutMs(long deadline) {
        if (deadline == Long.MAX_VALUE) {
            return -1;
        }
        long ns = deadline - System.nanoTime();
        if (ns <= 0) {
            return 0;
        }
        return (int) Math.min(Integer.MAX_VALUE, (ns + 999_999) / 1_000_000);
    }

    /** Closes the epoll instance; the registered descriptors stay open. Idempotent. */
    @Override
    public void close() {
        epoll.close();
    }

    @Override
    public String toString() {
        return "Poller[" + strategy + ", " + count + " registered" + (cpu >= 0 ? ", cpu " + cpu : "") + "]";
    }
}
