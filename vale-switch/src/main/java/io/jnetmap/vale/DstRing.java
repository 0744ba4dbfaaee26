package io.jnetmap.vale;

import io.jnetmap.core.Region;
import io.jnetmap.core.RingLayout;
import io.jnetmap.core.SlotLayout;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * A ring the switch delivers into, with VALE's leases: several senders fill one destination at once.
 *
 * <p>A sender {@linkplain #reserve reserves} a lease of consecutive slots under a short lock (it only
 * moves {@code lease}), fills the slots without the lock, then {@linkplain #complete completes} the
 * lease under the lock again. Leases complete in any order but are published in order: {@code
 * leases[start]} holds {@link #BUSY} while the lease starting at slot {@code start} is being filled and
 * its end slot once it is complete; whoever completes the oldest outstanding lease advances {@code
 * published} over every completed lease that follows, so the receiver only ever sees filled slots.
 *
 * <pre>
 *   published        lease                 limit
 *   |  leased slots   |   free slots         |  receiver's slots ...
 *   [ A(done) B(busy) )[ ...                 )
 * </pre>
 *
 * <p>Two kinds: the RX ring of a switch port ({@link RxDst}: the switch is the ring's backend, the
 * port's user takes packets with rxsync) and the TX ring of an attached port ({@link TxDst}: the switch
 * is the ring's user; the attached port's polling thread runs txsync).
 */
abstract class DstRing {
    /** {@code leases[i]}: no lease starts at slot i. */
    static final int FREE = -1;
    /** {@code leases[i]}: the lease starting at slot i is being filled. */
    static final int BUSY = -2;
    private static final VarHandle LOCK = Spin.field(MethodHandles.lookup(), "lockWord", int.class);
    private static final VarHandle PUBLISHED = Spin.field(MethodHandles.lookup(), "published", int.class);

    final SwitchPort port;
    final RingRef ring;
    final Region region;
    final MemorySegment mem;
    /** Offset of slot 0 in {@link #mem}. */
    final long slots;
    final long bufPool;
    final int bufSize;
    final int numBufs;
    final int numSlots;

    @SuppressWarnings("unused") // accessed through LOCK
    private volatile int lockWord;
    /** Guarded by the lock: next slot to lease. */
    int lease;
    /**
     * First slot not yet published to the receiver. Written under the lock (with release); read under
     * the lock, or without it by the ring's user through {@link #publishedVolatile()}.
     */
    int published;
    /** Guarded by the lock: lease state per start slot ({@link #FREE}, {@link #BUSY} or the end slot). */
    private final int[] leases;
    /** Guarded by the lock: a back-pressured sender found this ring full and waits for room. */
    boolean senderWaiting;

    DstRing(SwitchPort port, RingRef ring, int initialLease) {
        this.port = port;
        this.ring = ring;
        this.region = ring.region();
        this.mem = region.memory();
        this.slots = ring.offset() + RingLayout.SLOTS_OFFSET;
        this.bufPool = region.bufOffset(0);
        this.bufSize = ring.bufSize();
        this.numBufs = region.numBufs();
        this.numSlots = ring.numSlots();
        this.leases = new int[numSlots];
        java.util.Arrays.fill(leases, FREE);
        this.lease = initialLease;
        this.published = initialLease;
    }

    // ----------------------------------------------------------------------------------------------
    // the lock: held for a handful of loads and stores, so it spins (and yields if the holder was preempted)

    final void lock() {
        if (!LOCK.compareAndSet(this, 0, 1)) {
            lockSlow();
        }
    }

    private void lockSlow() {
        int round = 0;
        do {
            Spin.pause(round++);
        } while ((int) LOCK.getOpaque(this) != 0 || !LOCK.compareAndSet(this, 0, 1));
    }

    final void unlock() {
        // ordered store -> everything written under the lock is visible to the next holder
        LOCK.setRelease(this, 0);
    }

    // ----------------------------------------------------------------------------------------------
    // leases

    /** Under the lock: slots free for new leases. */
    abstract int free();

    /** Under the lock: make slots up to {@code published} visible to the ring's user (TX rings: head). */
    abstract void publish(int upTo);

    /** Outside the lock, after {@link #publish}: wake the ring's user if it sleeps. */
    abstract void wakeReceiver();

    /**
     * Reserves up to {@code want} slots. Returns {@code start << 32 | count}; count may be 0 (full).
     * A back-pressured sender uses {@link #free()} and {@link #take} under its own locking instead.
     */
    final long reserve(int want) {
        lock();
        int free = free();
        if (free < want) {
            unlock();
            refresh(); // a TX ring of an attached port may have finished slots nobody has reclaimed yet
            lock();
            free = free();
        }
        int n = Math.min(want, free);
        int start = lease;
        take(n);
        unlock();
        return (long) start << 32 | n;
    }

    /** Outside the lock: bring {@link #free()} up to date if the ring's user can (netmap's txsync retry). */
    void refresh() {
    }

    /** Under the lock: leases {@code n} slots from {@link #lease}. */
    final void take(int n) {
        if (n > 0) {
            leases[lease] = BUSY;
            lease = advance(lease, n);
        }
    }

    /**
     * The sender filled only {@code used} of the {@code n} slots it leased at {@code start} (a
     * multi-slot packet did not fit). If no lease follows, the rest is given back; otherwise the caller
     * must fill it (with empty slots). Returns the slots the lease keeps.
     */
    final int shrink(int start, int n, int used) {
        lock();
        try {
            if (lease == advance(start, n)) {
                lease = advance(start, used);
                if (used == 0) {
                    leases[start] = FREE;
                }
                return used;
            }
            return n;
        } finally {
            unlock();
        }
    }

    /** Marks the lease of {@code n > 0} slots at {@code start} filled and publishes what is now complete. */
    final void complete(int start, int n) {
        boolean moved;
        lock();
        try {
            leases[start] = advance(start, n);
            moved = start == published && publishCompleted();
        } finally {
            unlock();
        }
        if (moved) {
            wakeReceiver();
        }
    }

    /** Under the lock: advances {@code published} over consecutive completed leases. */
    private boolean publishCompleted() {
        int t = published;
        int e;
        while ((e = leases[t]) >= 0) {
            leases[t] = FREE;
            t = e;
        }
        if (t == published) {
            return false;
        }
        // ordered store -> the slots before t (filled before their leases completed) are visible to a
        // receiver that reads published without the lock
        PUBLISHED.setRelease(this, t);
        publish(t);
        return true;
    }

    /**
     * Without the lock: {@link #published}, and the slots before it filled (pairs with the release
     * above). A volatile read, not only acquire: a receiver about to sleep stores its need-wake-up flag
     * and then reads this, while a sender stores this and then reads the flag (a Dekker pair, see
     * {@link io.jnetmap.core.spi.Kring#notifyIfWaiting()}); both orders must be sequentially consistent.
     */
    final int publishedVolatile() {
        return (int) PUBLISHED.getVolatile(this);
    }

    final int advance(int slot, int n) {
        int s = slot + n;
        return s >= numSlots ? s - numSlots : s;
    }

    final int next(int slot) {
        return slot + 1 == numSlots ? 0 : slot + 1;
    }

    /** Slots from {@code from} forward to {@code to}. */
    final int distance(int from, int to) {
        int d = to - from;
        return d < 0 ? d + numSlots : d;
    }

    // ----------------------------------------------------------------------------------------------
    // slot access (the sender fills leased slots; no lock needed, the lease makes them its own)

    final long slot(int i) {
        return slots + ((long) i << 4);
    }

    final int bufIdx(int i) {
        return mem.get(JAVA_INT_UNALIGNED, slot(i) + SlotLayout.BUF_IDX_OFFSET);
    }

    /** Offset of the buffer of slot {@code i}, or -1 if the user left an invalid index in it. */
    final long bufOffsetOrInvalid(int i) {
        return bufOffsetOf(bufIdx(i));
    }

    /** Offset of buffer {@code b} (read from a slot of this ring), or -1 if the index is invalid. */
    final long bufOffsetOf(int b) {
        if (b < 2 || b >= numBufs) {
            return -1;
        }
        return bufPool + (long) b * bufSize;
    }

    final void setLenFlags(int i, int len, int flags) {
        mem.set(JAVA_INT_UNALIGNED, slot(i) + SlotLayout.LEN_OFFSET, SlotWord.lenFlags(len, flags));
    }

    final void setSlot(int i, int bufIdx, int len, int flags) {
        mem.set(JAVA_LONG_UNALIGNED, slot(i), SlotWord.of(bufIdx, len, flags));
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + port.name() + " ring " + ring.ringId() + " published=" + published
                + " lease=" + lease + "]";
    }
}
