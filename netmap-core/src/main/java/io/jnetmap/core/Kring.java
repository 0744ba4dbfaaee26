package io.jnetmap.core;

import io.jnetmap.sys.EventFd;

import java.lang.invoke.VarHandle;

/**
 * The backend's side of a ring, netmap's {@code struct netmap_kring}: the state a port kind keeps
 * about one ring, out of the user's reach. Port implementations ({@link AbstractPort}) read and write
 * these fields inside their {@code txsync}/{@code rxsync}; users never need this class.
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

    /** Backend: first slot not yet processed by the backend (netmap's nr_hwcur). */
    public int hwcur;
    /** Backend: first slot owned by the backend, published to the user as tail (nr_hwtail). */
    public int hwtail;
    /** Validated head of the last sync. */
    public int rhead;
    /** Validated cur of the last sync. */
    public int rcur;
    /** Tail as last published to the user. */
    public int rtail;

    private static final MonitorPort.Sink[] NO_MONITORS = new MonitorPort.Sink[0];
    /** Copy monitors of this ring; replaced (copy on write) when one attaches or leaves. */
    private volatile MonitorPort.Sink[] monitors = NO_MONITORS;

    /** Whom to signal when this ring's user sleeps and new work arrives: the owning port's eventfd. */
    private volatile EventFd notifier;
    private long resets;
    private long repairs;

    Kring(AbstractPort port, Ring ring, int index) {
        this.port = port;
        this.ring = ring;
        this.tx = ring.isTx();
        this.index = index;
        this.numSlots = ring.numSlots();
        this.hwcur = ring.head();
        this.hwtail = ring.tail();
        this.rhead = hwcur;
        this.rcur = ring.cur();
        this.rtail = hwtail;
        ring.kring = this;
    }

    /** txsync or rxsync, with netmap's prologue and epilogue. */
    public void sync() {
        port.checkOpen();
        int head = ring.head();
        int cur = ring.cur();
        if (!between(rhead, head, rtail) || !between(head, cur, rtail)) {
            reinit(head, cur);
        }
        MonitorPort.Sink[] mon = monitors;
        if (tx) {
            if (mon.length != 0 && head != hwcur) {
                for (MonitorPort.Sink s : mon) {
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
                for (MonitorPort.Sink s : mon) {
                    s.copy(ring, before, hwtail, 0); // as received, before the user sees them
                }
            }
        }
        rtail = hwtail;
        ring.setTail(hwtail);
        if ((ring.ringFlags() & RingLayout.NR_TIMESTAMP) != 0) {
            ring.setTimestamp(System.nanoTime());
        }
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
        ring.setTail(hwtail);
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

    synchronized void addMonitor(MonitorPort.Sink s) {
        MonitorPort.Sink[] m = java.util.Arrays.copyOf(monitors, monitors.length + 1);
        m[m.length - 1] = s;
        monitors = m;
    }

    synchronized void removeMonitor(MonitorPort.Sink s) {
        monitors = java.util.Arrays.stream(monitors).filter(x -> x != s).toArray(MonitorPort.Sink[]::new);
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
        if (ring.userWait() != 0) {
            EventFd n = notifier;
            if (n != null) {
                n.signal();
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return "Kring[" + port.name() + " " + (tx ? "tx" : "rx") + ring.ringId() + " hwcur=" + hwcur + " hwtail=" + hwtail
                + " rhead=" + rhead + " rtail=" + rtail + "]";
    }
}
