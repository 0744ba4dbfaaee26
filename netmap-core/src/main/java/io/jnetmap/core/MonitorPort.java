package io.jnetmap.core;

import io.jnetmap.core.spi.AbstractPort;
import io.jnetmap.core.spi.Kring;
import io.jnetmap.core.spi.RingTap;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A copy monitor (netmap's {@code /r}, {@code /t}, {@code /rt}): a port whose RX ring {@code i} receives
 * a copy of every packet sent on TX ring {@code i} (flagged {@link Slot#NS_TXMON}) and/or received on RX
 * ring {@code i} of the port it watches, which keeps running as before. Copies are made inside the
 * watched port's syncs ({@link Kring}): TX packets as the user hands them over, RX packets as the
 * backend brings them, before the user sees them. A monitor that cannot keep up loses the excess
 * (counted in {@link #drops()}); the watched port never waits for it.
 *
 * <p>The monitor lives in its own private region and watches a port of the same process (open it
 * with {@link Netmap#open} after the watched port, e.g. {@code pipe{1/t} next to {@code pipe{1}). Its
 * TX rings are unused. Zero-copy monitors ({@code /z}) are not supported.
 */
public final class MonitorPort extends AbstractPort {
    private final Port target;
    private final Sink[] sinks;
    private final Kring[] watched;
    private final RingTap[] watchedSink;
    private final AtomicLong drops = new AtomicLong();

    private MonitorPort(PortName name, NetmapIf nifp, Port target, boolean mirrored) {
        super(name, nifp, "monitor of " + target.backend(), true);
        this.target = target;
        boolean tx = name.hasFlag(PortName.MONITOR_TX);
        boolean rx = name.hasFlag(PortName.MONITOR_RX);
        int rings = rxRings();
        this.sinks = new Sink[rings];
        for (int i = 0; i < rings; i++) {
            sinks[i] = new Sink(rxKring(i));
        }
        java.util.List<Kring> w = new java.util.ArrayList<>();
        java.util.List<RingTap> ws = new java.util.ArrayList<>();
        if (target instanceof AbstractPort t) {
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
        }
        this.watched = w.toArray(Kring[]::new);
        this.watchedSink = ws.toArray(RingTap[]::new);
        for (int i = 0; i < watched.length; i++) {
            watched[i].addTap(watchedSink[i]);
        }
    }

    /**
     * Opens a copy monitor of {@code target} (a port of this process) for {@code name}'s flags
     * ({@code r}, {@code t}); ring size from {@code @conf:slots=}, else the target's ring size.
     */
    public static MonitorPort open(PortName name, Port target) {
        return open(name, target, false);
    }

    /**
     * As {@link #open(PortName, Port)}; {@code mirrored}: {@code target} is the far side of the port
     * {@code name} watches, so its RX rings carry what that port sends ({@code /t}, copies flagged
     * {@link Slot#NS_TXMON}) and its TX rings what it receives ({@code /r}). A switch monitors a port
     * attached for another process this way: the switch's end of that process's pipe.
     */
    public static MonitorPort open(PortName name, Port target, boolean mirrored) {
        if (name.hasFlag(PortName.ZCOPY_MONITOR)) {
            throw new NetmapException("cannot open \"" + name + "\": zero-copy monitors (/z) are not supported;"
                    + " use copy monitors /r, /t or /rt");
        }
        if (!name.hasFlag(PortName.MONITOR_RX) && !name.hasFlag(PortName.MONITOR_TX)) {
            throw new IllegalArgumentException("name=" + name + " (expected: a monitor flag /r, /t or /rt)");
        }
        if (!(target instanceof AbstractPort) || target.isClosed()) {
            throw new NetmapException("cannot monitor " + target.name() + ": not an open jnetmap port");
        }
        int rings = Math.max(1, Math.max(target.txRings(), target.rxRings()));
        int dflt = target.rxRings() > 0 ? target.rxRing(0).numSlots()
                : target.txRings() > 0 ? target.txRing(0).numSlots() : Geometry.DEFAULT_SLOTS;
        int slots = name.conf("rx-slots", "slots", dflt);
        int bufSize = Math.max(target.region().bufSize(), name.conf("buf-size", Geometry.DEFAULT_BUF_SIZE));
        Region region = Region.createPrivate(Geometry.forRings(1, rings, slots, 0, 0, bufSize));
        try {
            NetmapIf nifp = region.allocIf(new IfSpec(name.withoutOptions(), 0, 0, rings, 0, 0, 2, slots, 0));
            return new MonitorPort(name, nifp, target, mirrored);
        } catch (RuntimeException e) {
            region.close();
            throw e;
        }
    }

    /** The port this monitor watches. */
    public Port target() {
        return target;
    }

    /** Packets the monitor could not take (its ring was full, or the slot was invalid). */
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
        Sink s = sinks[k.index]; // a monitor has no TX rings: RX ring i is ring i of its descriptor
        k.hwcur = k.rhead;
        s.consumed = k.rhead; // volatile store -> the producer may reuse the released slots
        k.hwtail = s.produced;
    }

    @Override
    protected void onClose() {
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
