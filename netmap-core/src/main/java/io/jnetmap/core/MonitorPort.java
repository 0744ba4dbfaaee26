package io.jnetmap.core;

import io.jnetmap.core.spi.AbstractPort;
import io.jnetmap.core.spi.Kring;
import io.jnetmap.core.spi.RingGate;
import io.jnetmap.core.spi.RingTap;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A monitor port: netmap's copy monitors ({@code /r}, {@code /t}, {@code /rt}) and zero-copy monitors
 * ({@code /z}; {@code /zr}, {@code /zt} for one side). RX ring {@code i} of the monitor carries the
 * packets of TX ring {@code i} (flagged {@link Slot#NS_TXMON}) and/or RX ring {@code i} of the port it
 * watches. Its TX rings are unused. It watches a port of the same process: open it with
 * {@link Netmap#open} after the watched port, e.g. {@code pipe{1/t} next to {@code pipe{1}.
 *
 * <p><b>Copy monitors</b> get copies made inside the watched port's syncs ({@link Kring}): TX packets
 * as the user hands them over, RX packets as the backend brings them, before the user sees them. A
 * copy monitor that cannot keep up loses the excess (counted in {@link #drops()}); the watched port
 * never waits for it. It lives in a private region of its own.
 *
 * <p><b>Zero-copy monitors</b> are a gate ({@link RingGate}) in the watched rings' syncs: the packets
 * pass through the monitor. TX packets the user queued are moved into the monitor's RX ring by buffer
 * swap and go on to the backend (the wire, the pipe's peer, the switch) only when the monitor's user
 * releases them (advances {@code head} and syncs); RX packets the backend brought are moved to the
 * monitor first and reach the watched port's user once released. Released packets continue in order,
 * with whatever length and contents the monitor left. While the monitor holds packets the watched
 * port stalls: its TX ring fills, its RX ring shows nothing new (nothing is dropped; when the
 * monitor's ring is full, packets wait in the watched ring). Closing the monitor gives everything it
 * held back to the flow, in order. The monitor's rings are placed in the watched port's region (buffer
 * swap works only within one region), so that region needs room for them; kinds that support it are
 * those whose {@link AbstractPort#supportsZeroCopyMonitor()} says so: pipes and VALE ports. One
 * zero-copy monitor per ring. Unlike netmap, whose zero-copy monitors see packets after they were
 * consumed (TX slots reclaimed, RX slots released) and never hold the watched port back, this one
 * sits in the path, like a middlebox on the port.
 */
public final class MonitorPort extends AbstractPort {
    private final Port target;
    /** Copy monitor: one sink per RX ring, and the watched rings with the sink each feeds; null for /z. */
    private final Sink[] sinks;
    private final Kring[] watched;
    private final RingTap[] watchedSink;
    /** Zero-copy monitor: one per RX ring; null for copy monitors. */
    private final ZeroCopyRing[] zrings;
    private final AtomicLong drops = new AtomicLong();

    private MonitorPort(PortName name, NetmapIf nifp, Port target, boolean mirrored) {
        super(name, nifp, "monitor of " + target.backend(), true);
        this.target = target;
        boolean zcopy = name.hasFlag(PortName.ZCOPY_MONITOR);
        boolean tx = name.hasFlag(PortName.MONITOR_TX) || (zcopy && !name.hasFlag(PortName.MONITOR_RX));
        boolean rx = name.hasFlag(PortName.MONITOR_RX) || (zcopy && !name.hasFlag(PortName.MONITOR_TX));
        AbstractPort t = (AbstractPort) target;
        int rings = rxRings();
        if (zcopy) {
            this.sinks = null;
            this.watched = null;
            this.watchedSink = null;
            this.zrings = new ZeroCopyRing[rings];
            for (int i = 0; i < rings; i++) {
                zrings[i] = new ZeroCopyRing(rxKring(i));
            }
            try {
                attachGates(t, tx, rx);
            } catch (RuntimeException e) {
                eventFd().close(); // the caller frees the descriptor and the region; the port never opened
                throw e;
            }
            return;
        }
        this.zrings = null;
        this.sinks = new Sink[rings];
        for (int i = 0; i < rings; i++) {
            sinks[i] = new Sink(rxKring(i));
        }
        java.util.List<Kring> w = new java.util.ArrayList<>();
        java.util.List<RingTap> ws = new java.util.ArrayList<>();
        // mirrored: the port watched is the far side of the one named (what it sends arrives on t's RX)
        boolean txRings = mirrored ? rx : tx;
        boolean rxRings = mirrored ? tx : rx;
        for (int i = 0; txRings && i < t.txRings(); i++) {
            w.add(t.txKring(i));
            ws.add(mirrored ? sinks[i].flipped() : sinks[i]);
        }
        for (int i = 0; rxRings && i < t.rxRings(); i++) {
            w.add(t.rxKring(i));
            ws.add(mirrored ? sinks[i].flipped() : sinks[i]);
        }
        this.watched = w.toArray(Kring[]::new);
        this.watchedSink = ws.toArray(RingTap[]::new);
        for (int i = 0; i < watched.length; i++) {
            watched[i].addTap(watchedSink[i]);
        }
    }

    /** Puts a gate on each watched ring; undoes what it did if one of them refuses. */
    private void attachGates(AbstractPort t, boolean tx, boolean rx) {
        java.util.List<Gate> attached = new java.util.ArrayList<>();
        try {
            for (int dir = 0; dir < 2; dir++) {
                boolean isTx = dir == 0;
                if (isTx ? !tx : !rx) {
                    continue;
                }
                for (int i = 0; i < (isTx ? t.txRings() : t.rxRings()); i++) {
                    Kring k = isTx ? t.txKring(i) : t.rxKring(i);
                    ZeroCopyRing z = zrings[i];
                    if (k.ring.region() != z.mr.region()) {
                        throw new NetmapException("cannot open \"" + name() + "\": " + k + " lives in region "
                                + k.ring.region().name() + ", not in " + z.mr.region().name()
                                + " with the monitor's rings (buffer swap needs one region); use a copy monitor /r, /t or /rt");
                    }
                    Gate g = new Gate(z, k);
                    try {
                        k.setGate(g);
                    } catch (IllegalStateException e) {
                        throw new NetmapException("cannot open \"" + name() + "\": " + target.name() + " has a zero-copy monitor"
                                + " already (one per ring); close it first, or use a copy monitor /r, /t or /rt");
                    }
                    attached.add(g);
                    if (isTx) {
                        z.tx = g;
                    } else {
                        z.rx = g;
                    }
                }
            }
        } catch (RuntimeException e) {
            for (Gate g : attached) {
                g.k.clearGate(g);
            }
            throw e;
        }
    }

    /**
     * Opens a monitor of {@code target} (a port of this process) for {@code name}'s flags ({@code r},
     * {@code t}, {@code z}); ring size from {@code @conf:slots=}, else the target's ring size.
     *
     * @throws NetmapException for {@code /z} on a kind that does not support it, or whose region has no
     *         room for the monitor's rings
     */
    public static MonitorPort open(PortName name, Port target) {
        return open(name, target, false);
    }

    /**
     * As {@link #open(PortName, Port)}; {@code mirrored}: {@code target} is the far side of the port
     * {@code name} watches, so its RX rings carry what that port sends ({@code /t}, copies flagged
     * {@link Slot#NS_TXMON}) and its TX rings what it receives ({@code /r}). A switch monitors a port
     * attached for another process this way: the switch's end of that process's pipe. Copy monitors
     * only: a zero-copy monitor watches a port of this process directly.
     */
    public static MonitorPort open(PortName name, Port target, boolean mirrored) {
        boolean zcopy = name.hasFlag(PortName.ZCOPY_MONITOR);
        if (zcopy && mirrored) {
            throw new NetmapException("cannot open \"" + name + "\": a zero-copy monitor (/z) watches a port of its own"
                    + " process; use a copy monitor /r, /t or /rt");
        }
        if (!zcopy && !name.hasFlag(PortName.MONITOR_RX) && !name.hasFlag(PortName.MONITOR_TX)) {
            throw new IllegalArgumentException("name=" + name + " (expected: a monitor flag /r, /t, /rt or /z)");
        }
        if (!(target instanceof AbstractPort t) || target.isClosed()) {
            throw new NetmapException("cannot monitor " + target.name() + ": not an open jnetmap port");
        }
        if (zcopy && !t.supportsZeroCopyMonitor()) {
            throw new NetmapException("cannot open \"" + name + "\": zero-copy monitors (/z) need a port kind whose slots"
                    + " they can swap buffers in and out of (pipes, VALE ports), not " + target.backend()
                    + "; use a copy monitor /r, /t or /rt");
        }
        int rings = Math.max(1, Math.max(target.txRings(), target.rxRings()));
        int dflt = target.rxRings() > 0 ? target.rxRing(0).numSlots()
                : target.txRings() > 0 ? target.txRing(0).numSlots() : Geometry.DEFAULT_SLOTS;
        int slots = name.conf("rx-slots", "slots", dflt);
        IfSpec spec = new IfSpec(name.withoutOptions(), 0, 0, rings, 0, 0, 2, slots, 0);
        Region region;
        NetmapIf nifp;
        if (zcopy) {
            // buffer swap only within one region: the monitor's rings go into the watched port's
            region = target.region().retain();
            try {
                nifp = region.allocIf(spec);
            } catch (RuntimeException e) {
                region.close();
                throw new NetmapException("cannot open \"" + name + "\": a zero-copy monitor swaps buffers with "
                        + target.name() + ", so its " + rings + " ring(s) of " + slots + " slots must fit in region "
                        + target.region().name() + ", which has no room (" + e.getMessage() + "); use a copy monitor /r, /t or /rt");
            }
        } else {
            int bufSize = Math.max(target.region().bufSize(), name.conf("buf-size", Geometry.DEFAULT_BUF_SIZE));
            region = Region.createPrivate(Geometry.forRings(1, rings, slots, 0, 0, bufSize));
            try {
                nifp = region.allocIf(spec);
            } catch (RuntimeException e) {
                region.close();
                throw e;
            }
        }
        try {
            return new MonitorPort(name, nifp, target, mirrored);
        } catch (RuntimeException e) {
            region.freeIf(nifp);
            region.close();
            throw e;
        }
    }

    /** True for a zero-copy monitor ({@code /z}, {@code /zr}, {@code /zt}). */
    public boolean isZeroCopy() {
        return zrings != null;
    }

    /** The port this monitor watches. */
    public Port target() {
        return target;
    }

    /**
     * Packets the monitor could not take: a copy monitor's ring was full, or a slot was invalid (for a
     * zero-copy monitor: a slot whose buffer index or length was bad, which passes on empty).
     */
    public long drops() {
        return drops.get();
    }

    @Override
    protected void txsync(Kring k) {
        k.hwcur = k.rhead; // TX rings of a monitor carry nothing
        k.hwtail = k.prev(k.rhead);
    }

    @Override
    protected void rxsync(Kring k) {
        if (zrings != null) {
            zrings[k.index].rxsync(k);
            return;
        }
        Sink s = sinks[k.index]; // a monitor has no TX rings: RX ring i is ring i of its descriptor
        k.hwcur = k.rhead;
        s.consumed = k.rhead; // volatile store -> the producer may reuse the released slots
        k.hwtail = s.produced;
    }

    @Override
    protected void onClose() {
        if (zrings != null) {
            for (ZeroCopyRing z : zrings) {
                z.close();
            }
            return;
        }
        for (int i = 0; i < watched.length; i++) {
            watched[i].removeTap(watchedSink[i]);
        }
        // a watched port's thread may have read the monitor list just before: wait for a copy in
        // flight (it may be signalling our eventfd) and make later ones do nothing, so the eventfd
        // closed next is never signalled after, or while, it is closed
        for (Sink s : sinks) {
            s.close();
        }
    }

    /**
     * One RX ring of a zero-copy monitor and the (at most two) watched rings that feed it: TX ring
     * {@code i} and RX ring {@code i} of the watched port. Its lock guards its own fields and those of
     * both gates: the watched rings' syncs (their users' threads) and the monitor's rxsync (its user's
     * thread) all move the same slots.
     */
    final class ZeroCopyRing {
        final Kring mk;
        final Ring mr;
        final int numSlots;
        /** Per monitor slot: the gate its packet came from (slots come back to it in order); guarded by this. */
        final Gate[] from;
        /** Per monitor slot: whether a buffer was swapped in (false: an invalid slot passed on empty). */
        final boolean[] swapped;
        /** Next monitor slot to fill (the monitor's hwtail); guarded by this. */
        int produced;
        /** First monitor slot its user has not released (the monitor's hwcur); guarded by this. */
        int consumed;
        Gate tx;
        Gate rx;

        ZeroCopyRing(Kring mk) {
            this.mk = mk;
            this.mr = mk.ring;
            this.numSlots = mk.numSlots;
            this.from = new Gate[numSlots];
            this.swapped = new boolean[numSlots];
            this.produced = mk.hwtail;
            this.consumed = mk.hwcur;
        }

        /** Free monitor slots (one always stays empty). */
        int room() {
            return RingIndex.distance(produced, RingIndex.prev(consumed, numSlots), numSlots);
        }

        /**
         * The monitor's rxsync: gives the released slots {@code [hwcur, rhead)} back to the rings they
         * came from, lets them go on (TX to the backend, RX to the watched port's user), then takes
         * what waits: TX slots queued meanwhile, RX packets the backend has now.
         */
        void rxsync(Kring k) {
            synchronized (this) {
                int c = consumed;
                int rel = k.rhead;
                boolean gone = targetGone(); // then the packets stay in our slots and are freed with them
                while (c != rel) {
                    if (!gone) {
                        from[c].giveBack(c);
                    }
                    from[c] = null;
                    c = RingIndex.next(c, numSlots);
                }
                consumed = rel;
                k.hwcur = rel;
                // under the lock: the watched port's close waits for it (portClosing), so its eventfd is open
                if (tx != null && tx.passOn()) {
                    tx.k.notifyIfWaiting(); // TX room for a writer waiting on OUT
                }
                if (rx != null && rx.passOn()) {
                    rx.k.notifyIfWaiting(); // packets for a reader waiting on IN
                }
                if (tx != null) {
                    tx.refill();
                }
                if (rx != null) {
                    rx.refill();
                }
                k.hwtail = produced;
            }
        }

        /**
         * At the monitor's close: every slot it holds, released or not, goes back to its ring, and the
         * gates leave with everything waiting behind them let through.
         */
        void close() {
            synchronized (this) {
                if (!targetGone()) {
                    for (int c = consumed; c != produced; c = RingIndex.next(c, numSlots)) {
                        from[c].giveBack(c);
                        from[c] = null;
                    }
                    consumed = produced;
                }
                // a closed target freed its rings: its packets stay in our slots and are freed with them
                for (Gate g : new Gate[] {tx, rx}) {
                    if (g != null) {
                        g.detach();
                    }
                }
            }
        }

        /** True once a gate learnt that the watched port is closing: its rings are not ours to move any more. */
        boolean targetGone() {
            return (tx != null && tx.gone) || (rx != null && rx.gone);
        }
    }

    /**
     * The gate on one watched ring. Positions in the watched ring: slots {@code [out, in)} are at the
     * monitor, {@code [in, limit)} wait for room in its ring (TX: {@code limit} = {@code end}, the
     * user's last head; RX: the backend's hwtail). The backend sees TX head {@code out}; the user sees
     * RX tail {@code out}. All fields guarded by the {@link ZeroCopyRing}'s lock.
     */
    final class Gate implements RingGate {
        final ZeroCopyRing z;
        final Kring k;
        final Ring r;
        final boolean tx;
        final int txmon;
        /** Set by the first gated sync (on the ring's own thread, so no ungated sync is in flight then). */
        boolean started;
        boolean detached;
        int in;
        int out;
        /** TX: the user's head at its last sync. */
        int end;
        /** Slots came back since the last {@link #passOn()}. */
        boolean returned;
        /** The watched port is closing ({@link #portClosing}): nothing of it is touched any more. */
        boolean gone;

        Gate(ZeroCopyRing z, Kring k) {
            this.z = z;
            this.k = k;
            this.r = k.ring;
            this.tx = k.tx;
            this.txmon = tx ? Slot.NS_TXMON : 0;
        }

        @Override
        public void portClosing(Kring k) {
            synchronized (z) {
                gone = true;
            }
        }

        @Override
        public void sync(Kring k) {
            boolean handed;
            synchronized (z) {
                if (detached) {
                    k.plainSync(); // the monitor left while this sync was on its way here
                    return;
                }
                if (!started) {
                    started = true;
                    end = k.rhead;
                    in = out = tx ? k.hwcur : k.publishedTail();
                }
                int head = r.head();
                int cur = r.cur();
                if (tx) {
                    k.gatePrologue(end, head, cur);
                    k.gateTap(end, head, Slot.NS_TXMON); // copy monitors see TX as the user sends it
                    end = head;
                    handed = handOver();
                    k.gateBackendSync(out);
                    k.gateEpilogue(k.hwtail);
                } else {
                    k.gatePrologue(k.rhead, head, cur);
                    pull(head);
                    handed = handOver();
                    k.gateEpilogue(out);
                }
                if (handed) {
                    z.mk.notifyIfWaiting(); // under the lock: the monitor's close waits for it, so its eventfd is open
                }
            }
        }

        /**
         * RX: runs the backend's rxsync, returning the slots before {@code head} (which the user released)
         * and bringing new packets, which copy monitors see as received.
         */
        private void pull(int head) {
            int before = k.hwtail;
            k.gateBackendSync(head);
            k.gateTap(before, k.hwtail, 0);
        }

        /** Moves the waiting slots into the monitor's ring by buffer swap while it has room; true if any moved. */
        boolean handOver() {
            int limit = tx ? end : k.hwtail;
            int i = in;
            if (i == limit) {
                return false;
            }
            Ring mr = z.mr;
            Region region = r.region();
            int p = z.produced;
            int room = z.room();
            long bad = 0;
            while (i != limit && room > 0) {
                int len = r.len(i);
                boolean ok = region.isValidBuf(r.bufIdx(i)) && len <= r.bufSize() && region.isValidBuf(mr.bufIdx(p));
                if (ok) {
                    Ring.swap(r, i, mr, p);
                    mr.setSlot(p, len, (r.flags(i) & ~Slot.NS_TXMON) | txmon | Slot.NS_BUF_CHANGED);
                } else {
                    mr.setSlot(p, 0, txmon);
                    bad++;
                }
                z.from[p] = this;
                z.swapped[p] = ok;
                p = RingIndex.next(p, z.numSlots);
                i = r.nextSlot(i);
                room--;
            }
            if (bad != 0) {
                drops.addAndGet(bad);
            }
            boolean moved = p != z.produced;
            z.produced = p;
            in = i;
            return moved;
        }

        /** Monitor slot {@code c} comes back to watched slot {@code out}, with the length the monitor left. */
        void giveBack(int c) {
            Ring mr = z.mr;
            int s = out;
            if (z.swapped[c]) {
                int len = mr.len(c);
                if (r.region().isValidBuf(mr.bufIdx(c)) && len <= r.bufSize()) {
                    Ring.swap(r, s, mr, c);
                    r.setLen(s, len);
                } else {
                    // the monitor's user broke the slot: the packet is gone, the spare buffer goes on empty
                    r.setLen(s, 0);
                    drops.incrementAndGet();
                }
            }
            out = r.nextSlot(s);
            returned = true;
        }

        /**
         * After slots came back: TX ones go to the backend (in the monitor's thread), RX ones become
         * visible to the watched port's user. True if the watched ring's user may want a wake-up.
         */
        boolean passOn() {
            if (!returned || detached || !started) {
                return false;
            }
            returned = false;
            if (z.targetGone()) {
                return false;
            }
            try {
                if (tx) {
                    k.gateBackendSync(out);
                    k.gateEpilogue(k.hwtail);
                } else {
                    k.gateEpilogue(out);
                }
            } catch (RuntimeException e) {
                // a backend fault (a broken pipe) reaches the watched port's user at its own next sync
            }
            return true;
        }

        /** Takes what waits now that the monitor's ring has room (RX: first asks the backend for new packets). */
        void refill() {
            if (detached || !started || z.targetGone()) {
                return;
            }
            try {
                if (!tx) {
                    pull(k.rhead); // releases nothing new: the user's last head stands
                }
                handOver(); // the monitor's rxsync that called this publishes what moved
            } catch (RuntimeException e) {
                // as in passOn
            }
        }

        /** Leaves the ring: everything behind the gate goes on, and later syncs are plain again. */
        void detach() {
            if (!detached && started && !z.targetGone()) {
                try {
                    if (tx) {
                        k.gateBackendSync(end); // in == out: the queued slots were never swapped
                        k.gateEpilogue(k.hwtail);
                    } else {
                        k.gateEpilogue(k.hwtail);
                    }
                } catch (RuntimeException e) {
                    // as in passOn
                }
            }
            detached = true;
            k.clearGate(this);
        }
    }

    /**
     * One monitor RX ring as the watched port's threads see it: a single-consumer ring filled under
     * a lock (a port's TX and RX rings may be synced by different threads).
     */
    final class Sink implements RingTap {
        private final Kring k;
        private final Ring r;
        private final MemorySegment dst;
        /** Next slot the producer fills; published to the monitor's rxsync. */
        volatile int produced;
        /** First slot the monitor's user has not released (its hwcur). */
        volatile int consumed;

        Sink(Kring k) {
            this.k = k;
            this.r = k.ring;
            this.dst = r.memory();
        }

        /** This sink with {@link Slot#NS_TXMON} inverted on the copies (a mirrored watch). */
        RingTap flipped() {
            return (ring, from, to, extraFlags) -> copy(ring, from, to, extraFlags ^ Slot.NS_TXMON);
        }

        /** Set (under the lock) when the monitor closes: copies from then on do nothing. */
        private boolean closed;

        synchronized void close() {
            closed = true;
        }

        /** Copies the packets of {@code src} slots {@code [from, to)}, whole packets only. */
        @Override
        public synchronized void copy(Ring src, int from, int to, int extraFlags) {
            if (closed) {
                return;
            }
            int n = k.numSlots;
            int p = produced;
            int room = RingIndex.distance(p, RingIndex.prev(consumed, n), n);
            Region srcRegion = src.region();
            MemorySegment sm = src.memory();
            long lost = 0;
            int i = from;
            while (i != to) {
                // one packet: its NS_MOREFRAG chain
                int frags = 1;
                int j = i;
                while ((src.flags(j) & Slot.NS_MOREFRAG) != 0 && src.nextSlot(j) != to && frags < Slot.MAX_FRAGS) {
                    j = src.nextSlot(j);
                    frags++;
                }
                boolean ok = frags <= room;
                for (int f = 0, s = i; ok && f < frags; f++, s = src.nextSlot(s)) {
                    ok = srcRegion.isValidBuf(src.bufIdx(s)) && src.len(s) <= r.bufSize();
                }
                if (ok) {
                    for (int f = 0, s = i; f < frags; f++, s = src.nextSlot(s)) {
                        int len = src.len(s);
                        MemorySegment.copy(sm, src.bufOffset(s), dst, r.bufOffset(p), len);
                        r.setSlot(p, len, (src.flags(s) & Slot.NS_MOREFRAG) | extraFlags);
                        p = RingIndex.next(p, n);
                    }
                    room -= frags;
                } else {
                    lost++;
                }
                i = src.nextSlot(j);
            }
            if (lost != 0) {
                drops.addAndGet(lost);
            }
            if (p != produced) {
                produced = p; // volatile store -> the copies above are visible to the monitor's rxsync
                k.notifyIfWaiting();
            }
        }
    }
}
