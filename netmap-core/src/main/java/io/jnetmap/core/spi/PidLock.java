package io.jnetmap.core.spi;

import io.jnetmap.core.NetmapException;
import io.jnetmap.sys.Linux;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A lock between processes, held in one 8-byte word of shared memory: the holder's pid, 0 when free
 * (netmap's allocator lock, Aeron's "owner id" idiom). Taken with a CAS; a word naming a process that
 * has died is stolen, so a crash never wedges the lock. For open/close-time work (allocation, control
 * requests), not per packet: a waiter spins briefly, then yields, then sleeps a millisecond at a time.
 *
 * <p>The word tells processes apart, not threads: this object serialises the threads of its own process
 * with a {@link ReentrantLock} taken first. Use one {@code PidLock} per lock word per JVM (a second
 * instance on the same word would take a word holding this process's pid for a leftover, see
 * {@link #lock}).
 */
public final class PidLock {
    private static final VarHandle LONG = JAVA_LONG.varHandle();
    private static final int PID = Linux.getpid();
    /** Rounds of {@link SpinLock#pause} before a waiter sleeps; the holder's liveness is checked between sleeps. */
    private static final int SPIN_ROUNDS = 200;

    private final MemorySegment mem;
    private final long offset;
    private final String what;
    private final ReentrantLock jvm = new ReentrantLock();

    /**
     * A lock on the 8-byte-aligned word at {@code offset} of {@code mem}; {@code what} names it in
     * errors (e.g. {@code "region r1: allocator lock"}).
     */
    public PidLock(MemorySegment mem, long offset, String what) {
        if (((mem.address() + offset) & 7) != 0 || offset < 0 || offset + 8 > mem.byteSize()) {
            throw new IllegalArgumentException(what + ": offset=" + offset + " (expected: an 8-byte aligned word inside "
                    + mem.byteSize() + " bytes)");
        }
        this.mem = mem;
        this.offset = offset;
        this.what = what;
    }

    /**
     * Takes the lock, waiting up to {@code timeout} for a live holder. A holder that has died loses
     * the word. A word holding this process's own pid while no thread of this object holds it is
     * the leftover of a dead earlier process with the same pid, and is taken too.
     *
     * @throws NetmapException if a live process holds it for longer than {@code timeout}
     * @throws IllegalStateException if the calling thread holds it already (the lock is not reentrant)
     */
    public void lock(long timeout, TimeUnit unit) {
        if (jvm.isHeldByCurrentThread()) {
            throw new IllegalStateException(what + " is already held by this thread (not reentrant)");
        }
        jvm.lock();
        try {
            long deadline = System.nanoTime() + unit.toNanos(timeout);
            int round = 0;
            while (!casFree()) {
                if (round < SPIN_ROUNDS) {
                    SpinLock.pause(round++);
                    continue;
                }
                if (stealIfDead()) {
                    return;
                }
                long holder = lvOwner();
                if (holder != 0 && System.nanoTime() - deadline > 0) {
                    throw new NetmapException(what + " is held by live process " + holder + " for more than "
                            + unit.toMillis(timeout) + " ms");
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
            }
        } catch (RuntimeException | Error e) {
            jvm.unlock();
            throw e;
        }
    }

    /** Takes the lock if no live process holds it; never waits. */
    public boolean tryLock() {
        if (!jvm.tryLock()) {
            return false;
        }
        if (jvm.getHoldCount() > 1) {
            jvm.unlock();
            throw new IllegalStateException(what + " is already held by this thread (not reentrant)");
        }
        if (casFree() || stealIfDead()) {
            return true;
        }
        jvm.unlock();
        return false;
    }

    private boolean casFree() {
        return LONG.compareAndSet(mem, offset, 0L, (long) PID);
    }

    /** Takes the word from a dead holder (or a leftover of this pid, or garbage); false if it is free or live. */
    private boolean stealIfDead() {
        long holder = lvOwner();
        if (holder == 0) {
            return false;
        }
        if (holder == PID || holder < 0 || holder > Integer.MAX_VALUE || !Linux.processAlive((int) holder)) {
            // unless another process stole it first
            return LONG.compareAndSet(mem, offset, holder, (long) PID);
        }
        return false;
    }

    /**
     * Gives the lock back: the word goes to 0 only if it still names this process (a process that
     * thought this one dead and stole it keeps it). Everything written under the lock is visible to
     * the next holder (the CAS has volatile semantics).
     */
    public void unlock() {
        if (!jvm.isHeldByCurrentThread()) {
            throw new IllegalStateException(what + " is not held by this thread");
        }
        try {
            LONG.compareAndSet(mem, offset, (long) PID, 0L);
        } finally {
            jvm.unlock();
        }
    }

    /** The pid in the word (0 = free), read volatile. */
    public long lvOwner() {
        return (long) LONG.getVolatile(mem, offset);
    }

    @Override
    public String toString() {
        return what + " (owner " + lvOwner() + ")";
    }
}
