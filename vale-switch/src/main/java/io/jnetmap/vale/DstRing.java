package io.jnetmap.vale;

import io.jnetmap.core.Region;
import io.jnetmap.core.RingIndex;
import io.jnetmap.core.RingLayout;
import io.jnetmap.core.SlotLayout;
import io.jnetmap.core.SlotWord;
import io.jnetmap.core.spi.SpinLock;

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
 * port's user takes packets with rxsync) and the TX ring of an attached port
 * ({@link AttachedPort.TxDst}: the switch is the ring's user; the attached port's polling thread runs
 * txsync).
 *
 * <p>Field layout (JCTools' padding superclasses): the lock word (written by every sender), the
 * constant geometry (read by everyone), {@code published} (written by senders, read by a receiver
 * that may busy-poll it without the lock) and the fields guarded by the lock (written by senders) sit
 * on different cache lines, 128 bytes apart.
 */
abstract class DstRing extends DstRingPad2 {
    /** {@code leases[i]}: no lease starts at slot i. */
    static final int FREE = -1;
    /** {@code leases[i]}: the lease starting at slot i is being filled. */
    static final int BUSY = -2;

    /** The port's index in its switch; written before the port is published (plain: the publication orders it). */
    int portIndex = -1;
    /** The port's name, for messages. */
    final String portName;
    /** Wakes the switch's back-pressured senders: called when a receiver made room a sender waits for. */
    final Runnable roomMade;
    /** Guarded by the lock: next slot to lease. */
    int lease;
    /** Guarded by the lock: lease state per start slot ({@link #FREE}, {@link #BUSY} or the end slot). */
    private final int[] leases;
    /** Guarded by the lock: a back-pressured sender found this ring full and waits for room. */
    boolean senderWaiting;

    DstRing(String portName, RingRef ring, int initialLease, Runnable roomMade) {
        super(ring, initialLease);
        this.portName = portName;
        this.roomMade = roomMade;
        this.leases = new int[numSlots];
        java.util.Arrays.fill(leases, FREE);
        this.lease = initialLease;
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

    /**
     * Slots holding packets the switch delivered that the ring's user (a VALE port's receiver) or
     * transmitter (an attached port's txsync) has not taken yet. A snapshot read without the lock from
     * the ring's shared words, for metrics; never called on the data path.
     */
    final int occupancy() {
        int from = takenUpTo();
        VarHandle.loadLoadFence(); // that boundary read before published: it never passes published
        return RingIndex.distance(from, lvPublished(), numSlots);
    }

    /** Without the lock: the first slot the port still holds (read from the ring's shared words). */
    abstract int takenUpTo();

    /** Outside the lock: bring {@link #free()} up to date if the ring's user can (netmap's txsync retry). */
    void refresh() {
    }

    /**
     * Outside the lock, after a back-pressured sender found this ring full and set {@link #senderWaiting}:
     * make sure whoever can make room learns that a sender waits (the receiver's release alone may wake
     * nobody). A VALE port's RX ring needs nothing: its user's next rxsync that releases slots sees the flag.
     */
    void senderBlocked() {
    }

    /** Under the lock: leases {@code n} slots from {@link #lease}. */
    final void take(int n) {
        if (n > 0) {
            leases[lease] = BUSY;
            lease = RingIndex.advance(lease, n, numSlots);
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
            if (lease == RingIndex.advance(start, n, numSlots)) {
                lease = RingIndex.advance(start, used, numSlots);
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
            leases[start] = RingIndex.advance(start, n, numSlots);
            moved = start == lpPublished() && publishCompleted();
        } finally {
            unlock();
        }
        if (moved) {
            wakeReceiver();
        }
    }

    /** Under the lock: advances {@code published} over consecutive completed leases. */
    private boolean publishCompleted() {
        int p = lpPublished();
        int t = p;
        int e;
        while ((e = leases[t]) >= 0) {
            leases[t] = FREE;
            t = e;
        }
        if (t == p) {
            return false;
        }
        // ordered store -> the slots before t (filled before their leases completed) are visible to a
        // receiver that reads published without the lock
        soPublished(t);
        publish(t);
        return true;
    }

    // ----------------------------------------------------------------------------------------------
    // slot access (the sender fills leased slots; no lock needed, the lease makes them its own)

    final long slot(int i) {
        return SlotLayout.offset(slots, i);
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
        return getClass().getSimpleName() + "[" + portName + " #" + portIndex + " ring " + ring.ringId()
                + " published=" + lvPublished() + " lease=" + lease + "]";
    }
}

/** The ring's constant geometry, after the lock word's trailing pad: read by every sender and the receiver. */
abstract class DstRingFields extends SpinLock {
    final RingRef ring;
    final Region region;
    final MemorySegment mem;
    /** Offset of slot 0 in {@link #mem}. */
    final long slots;
    final long bufPool;
    final int bufSize;
    final int numBufs;
    final int numSlots;

    DstRingFields(RingRef ring) {
        this.ring = ring;
        this.region = ring.region();
        this.mem = region.memory();
        this.slots = ring.offset() + RingLayout.SLOTS_OFFSET;
        this.bufPool = region.bufOffset(0);
        this.bufSize = ring.bufSize();
        this.numBufs = region.numBufs();
        this.numSlots = ring.numSlots();
    }
}

/** 128 bytes between the geometry and {@code published}. */
abstract class DstRingPad1 extends DstRingFields {
    @SuppressWarnings("unused")
    byte p000, p001, p002, p003, p004, p005, p006, p007, p008, p009, p010, p011, p012, p013, p014, p015;
    byte p016, p017, p018, p019, p020, p021, p022, p023, p024, p025, p026, p027, p028, p029, p030, p031;
    byte p032, p033, p034, p035, p036, p037, p038, p039, p040, p041, p042, p043, p044, p045, p046, p047;
    byte p048, p049, p050, p051, p052, p053, p054, p055, p056, p057, p058, p059, p060, p061, p062, p063;
    byte p064, p065, p066, p067, p068, p069, p070, p071, p072, p073, p074, p075, p076, p077, p078, p079;
    byte p080, p081, p082, p083, p084, p085, p086, p087, p088, p089, p090, p091, p092, p093, p094, p095;
    byte p096, p097, p098, p099, p100, p101, p102, p103, p104, p105, p106, p107, p108, p109, p110, p111;
    byte p112, p113, p114, p115, p116, p117, p118, p119, p120, p121, p122, p123, p124, p125, p126, p127;

    DstRingPad1(RingRef ring) {
        super(ring);
    }
}

/** {@code published} on a line of its own: a busy-polling receiver reads it without the lock. */
abstract class DstRingPublished extends DstRingPad1 {
    private static final VarHandle PUBLISHED = VarHandles.field(MethodHandles.lookup(), "published", int.class);

    /**
     * First slot not yet published to the receiver. Written under the lock (with release); read under
     * the lock ({@link #lpPublished()}), or without it by the ring's user ({@link #lvPublished()}).
     */
    private int published;

    DstRingPublished(RingRef ring, int published) {
        super(ring);
        this.published = published;
    }

    /** Under the lock: a plain read (the lock orders it). */
    final int lpPublished() {
        return published;
    }

    /** Under the lock: store with release, so that a reader without the lock sees the slots before it filled. */
    final void soPublished(int value) {
        PUBLISHED.setRelease(this, value);
    }

    /**
     * Without the lock: {@code published}, and the slots before it filled (pairs with
     * {@link #soPublished}). A volatile read, not only acquire: a receiver about to sleep stores its
     * need-wake-up flag and then reads this, while a sender stores this and then reads the flag (a
     * Dekker pair, see {@link io.jnetmap.core.spi.Kring#notifyIfWaiting()}); both orders must be
     * sequentially consistent.
     */
    final int lvPublished() {
        return (int) PUBLISHED.getVolatile(this);
    }
}

/** 128 bytes between {@code published} and the fields senders write under the lock. */
abstract class DstRingPad2 extends DstRingPublished {
    @SuppressWarnings("unused")
    byte q000, q001, q002, q003, q004, q005, q006, q007, q008, q009, q010, q011, q012, q013, q014, q015;
    byte q016, q017, q018, q019, q020, q021, q022, q023, q024, q025, q026, q027, q028, q029, q030, q031;
    byte q032, q033, q034, q035, q036, q037, q038, q039, q040, q041, q042, q043, q044, q045, q046, q047;
    byte q048, q049, q050, q051, q052, q053, q054, q055, q056, q057, q058, q059, q060, q061, q062, q063;
    byte q064, q065, q066, q067, q068, q069, q070, q071, q072, q073, q074, q075, q076, q077, q078, q079;
    byte q080, q081, q082, q083, q084, q085, q086, q087, q088, q089, q090, q091, q092, q093, q094, q095;
    byte q096, q097, q098, q099, q100, q101, q102, q103, q104, q105, q106, q107, q108, q109, q110, q111;
    byte q112, q113, q114, q115, q116, q117, q118, q119, q120, q121, q122, q123, q124, q125, q126, q127;

    DstRingPad2(RingRef ring, int published) {
        super(ring, published);
    }
}
