package io.jnetmap.core.spi;

import io.jnetmap.core.Region;
import io.jnetmap.core.Ring;
import io.jnetmap.core.RingIndex;
import io.jnetmap.core.RingLayout;
import io.jnetmap.core.RingStateException;
import io.jnetmap.core.Slot;
import io.jnetmap.core.internal.CoreAccess;
import io.jnetmap.sys.EventFd;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The backend's side of a ring, netmap's {@code struct netmap_kring}: the state a port kind keeps
 * about one ring, out of the user's reach. Port implementations ({@link AbstractPort}) read and write
 * these fields inside their {@code txsync}/{@code rxsync}; users never see this class (the package
 * is exported only to the modules that implement ports, as netmap keeps {@code netmap_kern.h} apart from
 * {@code netmap_user.h}).
 *
 * <p>Sync contract (netmap's):
 * <ul>
 *   <li><b>txsync</b>: on entry, slots {@code [hwcur, rhead)} hold new packets. The backend takes
 *       them, sets {@code hwcur = rhead}, and advances {@code hwtail} over slots it has finished with
 *       (never past {@code hwcur - 1}).</li>
 *   <li><b>rxsync</b>: on entry, slots {@code [hwcur, rhead)} were released by the user. The backend
 *       takes them back, sets {@code hwcur = rhead}, and advances {@code hwtail} over new packets
 *       (never past {@code hwcur - 1}).</li>
 * </ul>
 * The prologue ({@code head}, {@code cur} in range) runs before, and the epilogue ({@code tail =
 * hwtail}) after, in this class: backends see only validated values.
 *
 * <p>A ring with a zero-copy monitor has a gate ({@link RingGate}): its syncs go through the gate, which
 * runs the same prologue, backend call and epilogue ({@code gate*} methods) with the monitor in between,
 * so the backend's {@code rhead} (TX) or the user's {@code tail} (RX) lags what the user sees or did.
 * Rings without a gate pay one test of a null field per sync.
 *
 * <p>Owners of the mutable fields, as in {@code netmap_kern.h}: (k) written only by the backend, inside
 * {@code txsync}/{@code rxsync} (or, where a backend says so, under its own lock); (s) written only by
 * this class's sync, before the backend is called. All of them are plain fields: a ring is synced by one
 * thread at a time (netmap's rule), so they need no ordering of their own; what crosses threads is
 * published through the ring's TAIL (release) and the backend's own ordered words.
 */
public final class Kring {
    /** The port this ring belongs to. */
    public final AbstractPort port;
    /** The user-visible ring. */
    public final Ring ring;
    public final boolean tx;
    /** Position of the ring in its descriptor's ring list (tx, host tx, rx, host rx). */
    public final int index;
    public final int numSlots;

    /** (k) First slot not yet processed by the backend (netmap's nr_hwcur). */
    public int hwcur;
    /** (k) First slot owned by the backend, published to the user as tail at the end of a sync (nr_hwtail). */
    public int hwtail;
    /** (s) Validated head of the current (or last) sync (netmap's rhead): the backend reads it. */
    public int rhead;
    /** (s) Validated cur of the current (or last) sync (rcur). */
    public int rcur;
    /** (s) Tail as last published to the user (rtail). */
    public int rtail;

    private static final VarHandle LONG = JAVA_LONG.varHandle();
    private static final RingTap[] NO_TAPS = new RingTap[0];
    /** Taps (copy monitors) of this ring; replaced (copy on write) when one attaches or leaves. */
    private volatile RingTap[] taps = NO_TAPS;
    /** Non-null while a zero-copy monitor intercepts this ring ({@link #setGate}). */
    private volatile RingGate gate;
    private final MemorySegment mem;
    private final long base;

    /** Whom to signal when this ring's user sleeps and new work arrives: the owning port's eventfd. */
    private volatile EventFd notifier;
    private long resets;
    private long repairs;

    /** Binds the ring at {@code offset} of the port's region as ring {@code index} of {@code port}. */
    Kring(AbstractPort port, long offset, int index) {
        this.port = port;
        this.ring = CoreAccess.rings().bind(port.region(), offset, this);
        this.mem = ring.memory();
        this.base = ring.offset();
        this.tx = ring.isTx();
        this.index = index;
        this.numSlots = ring.numSlots();
        this.hwcur = ring.head();
        this.hwtail = ring.tail();
        this.rhead = hwcur;
        this.rcur = ring.cur();
        this.rtail = hwtail;
    }

    /** txsync or rxsync, with netmap's prologue and epilogue (through the gate, if one is attached). */
    public void sync() {
        port.checkOpen();
        RingGate g = gate;
        if (g != null) { // the one branch ports without a zero-copy monitor pay: a plain load of a field that stays null
            g.sync(this);
            return;
        }
        plainSync();
    }

    /**
     * The sync without a gate: prologue, taps, backend, epilogue. Called by {@link #sync()}, and by a
     * gate that was detached while a sync was on its way to it.
     */
    public void plainSync() {
        int head = ring.head();
        int cur = ring.cur();
        if (!between(rhead, head, rtail) || !between(head, cur, rtail)) {
            reinit(head, cur);
        }
        RingTap[] mon = taps;
        if (tx) {
            if (mon.length != 0 && head != hwcur) {
                for (RingTap s : mon) {
                    s.copy(ring, hwcur, head, Slot.NS_TXMON); // as the user sent them, before the backend moves them
                }
            }
            rhead = head;
            rcur = cur;
            port.txsync(this);
        } else {
            rhead = head;
            rcur = cur;
            int before = rtail; // what the user has seen; some backends move hwtail outside rxsync
            port.rxsync(this);
            if (mon.length != 0 && before != hwtail) {
                for (RingTap s : mon) {
                    s.copy(ring, before, hwtail, 0); // as received, before the user sees them
                }
            }
        }
        rtail = hwtail;
        soTail(hwtail);
        if ((ring.ringFlags() & RingLayout.NR_TIMESTAMP) != 0) {
            soTimestamp(System.nanoTime());
        }
    }

    // ----------------------------------------------------------------------------------------------
    // gates (zero-copy monitors): the pieces of sync a RingGate runs itself, under its own lock

    /**
     * Attaches {@code g}: from the next sync on, every sync of this ring is {@code g.sync(this)}. At
     * most one gate per ring (netmap chains zero-copy monitors; jnetmap refuses a second one).
     *
     * @throws IllegalStateException if a gate is attached already
     */
    public synchronized void setGate(RingGate g) {
        if (gate != null) {
            throw new IllegalStateException(this + " has a zero-copy monitor already (at most one per ring)");
        }
        gate = g;
    }

    /** Detaches {@code g} if it is this ring's gate; a sync already on its way may still call it once. */
    public synchronized void clearGate(RingGate g) {
        if (gate == g) {
            gate = null;
        }
    }

    /** At the start of the port's close: tells the gate, if any, to let go of this ring. */
    void portClosing() {
        RingGate g = gate;
        if (g != null) {
            g.portClosing(this);
        }
    }

    /**
     * The prologue of a gated sync: checks the user's {@code head}/{@code cur} against {@code lastHead}
     * (the head of the user's previous sync, which a gate keeps itself while the backend lags behind)
     * and the tail last published. A bad value puts the user's pointers back to {@code lastHead} (no slot
     * the gate or the backend holds is given to the user) and throws {@link RingStateException}.
     */
    public void gatePrologue(int lastHead, int head, int cur) {
        if (between(lastHead, head, rtail) && between(head, cur, rtail)) {
            return;
        }
        resets++;
        String what = (tx ? "txSync" : "rxSync") + "(" + port.name() + ", " + (tx ? "tx" : "rx") + " ring " + ring.ringId() + ")";
        String detail = !between(lastHead, head, rtail)
                ? "head=" + head + " (expected: " + lastHead + ".." + rtail + " circular, of " + numSlots + " slots)"
                : "cur=" + cur + " (expected: head " + head + ".." + rtail + " circular, of " + numSlots + " slots)";
        ring.advanceTo(lastHead);
        soTail(rtail);
        throw new RingStateException(what + ": " + detail + "; ring reset to head=cur=" + lastHead + ", tail=" + rtail);
    }

    /** Shows copy monitors (taps) slots {@code [from, to)}, as {@link #plainSync()} does. */
    public void gateTap(int from, int to, int extraFlags) {
        RingTap[] mon = taps;
        if (mon.length != 0 && from != to) {
            for (RingTap s : mon) {
                s.copy(ring, from, to, extraFlags);
            }
        }
    }

    /**
     * Runs the backend's txsync or rxsync as if the user's head were {@code backendHead}: the backend
     * sees, and takes, only the slots the gate let through.
     */
    public void gateBackendSync(int backendHead) {
        rhead = backendHead;
        rcur = backendHead;
        if (tx) {
            port.txsync(this);
        } else {
            port.rxsync(this);
        }
    }

    /** The epilogue of a gated sync: publishes {@code tail} (hwtail for TX; what the gate let through for RX). */
    public void gateEpilogue(int tail) {
        rtail = tail;
        soTail(tail);
        if ((ring.ringFlags() & RingLayout.NR_TIMESTAMP) != 0) {
            soTimestamp(System.nanoTime());
        }
    }

    /** Tail as last published to the user (netmap's rtail). */
    public int publishedTail() {
        return rtail;
    }

    /** (k) Publishes the ring's TAIL to its user. */
    private void soTail(int tail) {
        // ordered store -> slot contents the backend wrote are visible before the user sees the tail
        RingLayout.soTail(mem, base, tail);
    }

    /** (k) Publishes the ring's TIMESTAMP ({@link RingLayout#NR_TIMESTAMP}). */
    private void soTimestamp(long ns) {
        // ordered store -> pairs with Ring.timestamp()'s acquire
        LONG.setRelease(mem, base + RingLayout.TIMESTAMP_OFFSET, ns);
    }

    /**
     * (u) Stores the readiness the ring's user sleeps on (0 = awake), read by producers in
     * {@link #notifyIfWaiting()}. Called by the ring's user thread from its {@code Pollable}, and at close.
     */
    public void svUserWait(int interest) {
        // volatile store -> ordered before the re-check that follows it (StoreLoad), see Pollable.arm
        RingLayout.svUserWait(mem, base, interest);
    }

    /** True if {@code x} lies in the circular interval {@code [lo, hi]} of this ring. */
    private boolean between(int lo, int x, int hi) {
        return RingIndex.within(lo, x, hi, numSlots);
    }

    /**
     * netmap_ring_reinit: puts the ring back to the backend's state, repairs slots the user may not
     * own any more, and throws.
     */
    private void reinit(int badHead, int badCur) {
        resets++;
        String what = (tx ? "txSync" : "rxSync") + "(" + port.name() + ", " + (tx ? "tx" : "rx") + " ring " + ring.ringId() + ")";
        String detail;
        if (!between(rhead, badHead, rtail)) {
            detail = "head=" + badHead + " (expected: " + rhead + ".." + rtail + " circular, of " + numSlots + " slots)";
        } else {
            detail = "cur=" + badCur + " (expected: head " + badHead + ".." + rtail + " circular, of " + numSlots + " slots)";
        }
        rhead = rcur = hwcur;
        rtail = hwtail;
        ring.advanceTo(hwcur);
        soTail(hwtail);
        repairSlots();
        throw new RingStateException(what + ": " + detail + "; ring reset to head=cur=" + hwcur + ", tail=" + hwtail);
    }

    /** Replaces invalid buffer indices and lengths in user-owned slots, as netmap_ring_reinit does. */
    private void repairSlots() {
        Region region = ring.region();
        for (int i = 0; i < numSlots; i++) {
            int b = ring.bufIdx(i);
            if (!region.isValidBuf(b)) {
                int fresh = region.allocBuf();
                ring.setBufIdx(i, fresh);
                ring.setSlot(i, 0, Slot.NS_BUF_CHANGED);
                repairs++;
            } else if (ring.len(i) > ring.bufSize()) {
                ring.setLen(i, 0);
                repairs++;
            }
        }
    }

    /** True if slot {@code i} holds a valid buffer index and length (backends check untrusted slots). */
    public boolean validSlot(int i) {
        return ring.region().isValidBuf(ring.bufIdx(i)) && ring.len(i) <= ring.bufSize();
    }

    /** The slot after {@code i} ({@link RingIndex#next}). */
    public int next(int i) {
        return RingIndex.next(i, numSlots);
    }

    /** The slot before {@code i} ({@link RingIndex#prev}). */
    public int prev(int i) {
        return RingIndex.prev(i, numSlots);
    }

    /** Slots from {@code from} to {@code to} going forward, 0 if equal ({@link RingIndex#distance}). */
    public int distance(int from, int to) {
        return RingIndex.distance(from, to, numSlots);
    }

    /** Number of ring resets caused by bad head/cur. */
    public long resets() {
        return resets;
    }

    /** Number of slots whose buffer index or length had to be repaired at a reset. */
    public long repairs() {
        return repairs;
    }

    /** Attaches a tap: from the next sync on, it sees this ring's packets. */
    public synchronized void addTap(RingTap t) {
        RingTap[] m = Arrays.copyOf(taps, taps.length + 1);
        m[m.length - 1] = t;
        taps = m;
    }

    /** Detaches a tap; a sync already running may still call it once. */
    public synchronized void removeTap(RingTap t) {
        taps = Arrays.stream(taps).filter(x -> x != t).toArray(RingTap[]::new);
    }

    /** Where wake-ups for this ring go; by default the owning port's eventfd. */
    public void setNotifier(EventFd notifier) {
        this.notifier = notifier;
    }

    public EventFd notifier() {
        return notifier;
    }

    /**
     * Called by a producer after it published work for this ring (new RX packets, freed TX slots):
     * wakes the ring's user if it is asleep, and only then costs a system call. The full fence orders
     * the producer's publication before its read of the flag; the user's {@link Pollable#arm} orders
     * its flag store before its re-check (the other half of the Dekker pair).
     *
     * @return true if a wake-up was sent
     */
    public boolean notifyIfWaiting() {
        VarHandle.fullFence();
        if (lvUserWait() != 0) {
            EventFd n = notifier;
            if (n != null) {
                n.signal();
                return true;
            }
        }
        return false;
    }

    /** (u) The user's need-wake-up word, read volatile: the second half of the Dekker pair above. */
    private int lvUserWait() {
        return RingLayout.lvUserWait(mem, base);
    }

    @Override
    public String toString() {
        return "Kring[" + port.name() + " " + (tx ? "tx" : "rx") + ring.ringId() + " hwcur=" + hwcur + " hwtail=" + hwtail
                + " rhead=" + rhead + " rtail=" + rtail + "]";
    }
}
