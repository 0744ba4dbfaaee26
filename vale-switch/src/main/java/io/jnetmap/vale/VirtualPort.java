package io.jnetmap.vale;

import io.jnetmap.core.Geometry;
import io.jnetmap.core.IfSpec;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.NetmapException;
import io.jnetmap.core.NetmapIf;
import io.jnetmap.core.PortName;
import io.jnetmap.core.Region;
import io.jnetmap.core.spi.Kring;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * A VALE port ({@code valeS:P}): rings in the port's own region (or, with {@code @share=}, in another
 * port's region), the switch as the rings' backend. Its TX rings are sources (forwarding runs inside
 * txsync), its RX rings destinations ({@link RxDst}). Every open of the name binds the same rings
 * ({@link ValePort}); the port leaves the switch when the last open closes, unless it is persistent.
 */
final class VirtualPort extends SwitchPort {
    /** Port-kind tag in the interface descriptor: "VALE". */
    static final int IF_KIND = 0x454c4156;
    /** Most rings per direction (netmap's NM_BDG_MAXRINGS). */
    static final int MAX_RINGS = 16;

    private final Region region;
    private final NetmapIf nifp;
    private final boolean sharedRegion;
    /** Guarded by Vale.CONFIG. */
    private int opens;
    /** Guarded by Vale.CONFIG. */
    private boolean persistent;
    /** Guarded by Vale.CONFIG. */
    private boolean exclusive;
    /** Per ring, the krings of every open binding it (notified when packets arrive / room appears). */
    private volatile Kring[][] rxBound;
    private volatile Kring[][] txBound;
    /** Per TX ring: the slots handed to the backend that wait to be forwarded. */
    private final Pending[] pending;

    private VirtualPort(ValeSwitch sw, String name, Region region, NetmapIf nifp, boolean sharedRegion) {
        super(sw, name);
        this.region = region;
        this.nifp = nifp;
        this.sharedRegion = sharedRegion;
        int ntx = nifp.txRings();
        int nrx = nifp.rxRings();
        this.dst = new DstRing[nrx];
        for (int i = 0; i < nrx; i++) {
            dst[i] = new RxDst(this, RingRef.at(region, nifp.rxRingOffset(i)));
        }
        this.forwarders = new Forwarder[ntx];
        this.pending = new Pending[ntx];
        for (int i = 0; i < ntx; i++) {
            RingRef ref = RingRef.at(region, nifp.txRingOffset(i));
            forwarders[i] = new Forwarder(sw, this, ref, i);
            pending[i] = new Pending(ref.storedHead());
        }
        this.rxBound = new Kring[nrx][0];
        this.txBound = new Kring[ntx][0];
    }

    /**
     * Creates the port described by {@code pn} ({@code @conf:} sizes, {@code @share=} region) and joins
     * it to {@code sw}. Under Vale.CONFIG.
     */
    static VirtualPort create(ValeSwitch sw, PortName pn) {
        int txRings = pn.conf("tx-rings", "rings", 1);
        int rxRings = pn.conf("rx-rings", "rings", 1);
        int txSlots = pn.conf("tx-slots", "slots", Geometry.DEFAULT_SLOTS);
        int rxSlots = pn.conf("rx-slots", "slots", Geometry.DEFAULT_SLOTS);
        int extra = pn.conf("extra-bufs", 0);
        for (String host : new String[] {"host-rings", "host-tx-rings", "host-rx-rings"}) {
            if (pn.conf(host, 0) != 0) {
                throw new IllegalArgumentException(host + "=" + pn.conf(host, 0) + " in " + pn.text()
                        + " (expected: 0, VALE ports have no host rings)");
            }
        }
        checkRings("tx-rings", txRings, pn);
        checkRings("rx-rings", rxRings, pn);
        IfSpec spec = new IfSpec(sw.name() + ":" + pn.base(), IF_KIND, txRings, rxRings, 0, 0, txSlots, rxSlots, extra);
        String share = pn.option("share");
        Region region;
        if (share != null) {
            if (pn.conf().containsKey("buf-size") || pn.conf().containsKey("bufs")) {
                throw new IllegalArgumentException("buf-size/bufs in " + pn.text()
                        + " (expected: none with @share=, the shared region's sizes apply)");
            }
            region = Netmap.shareRegionOf(share);
        } else {
            // room for one more port of the same size: a port opened with @share= this one fits
            long need = 2 * (spec.buffers() + 64);
            int bufs = pn.conf("bufs", (int) Math.min(Integer.MAX_VALUE / 2, need + 2));
            Geometry g = new Geometry(4, 2 * spec.totalRings(), Math.max(txSlots, rxSlots), bufs,
                    pn.conf("buf-size", Geometry.DEFAULT_BUF_SIZE));
            region = Region.createPrivate(g);
        }
        try {
            NetmapIf nifp = region.allocIf(spec);
            try {
                VirtualPort vp = new VirtualPort(sw, pn.base(), region, nifp, share != null);
                vp.backPressure = backPressureOption(pn, false);
                sw.join(vp);
                return vp;
            } catch (RuntimeException e) {
                region.freeIf(nifp);
                throw e;
            }
        } catch (RuntimeException e) {
            region.close();
            throw e;
        }
    }

    private static void checkRings(String key, int n, PortName pn) {
        if (n < 1 || n > MAX_RINGS) {
            throw new IllegalArgumentException(key + "=" + n + " in " + pn.text() + " (expected: 1.." + MAX_RINGS + ")");
        }
    }

    /** The {@code @backpressure=on|off} option, or {@code dflt}. */
    static boolean backPressureOption(PortName pn, boolean dflt) {
        String v = pn.option("backpressure");
        if (v == null) {
            return dflt;
        }
        return switch (v) {
            case "on", "1", "yes", "true" -> true;
            case "off", "0", "no", "false" -> false;
            default -> throw new IllegalArgumentException("backpressure=" + v + " in " + pn.text() + " (expected: on or off)");
        };
    }

    /** A new open of this port. Under Vale.CONFIG. */
    ValePort open(PortName pn) {
        boolean excl = pn.hasFlag(PortName.EXCLUSIVE);
        if (exclusive || (excl && opens > 0)) {
            throw new NetmapException.PortBusy("port " + fullName() + " is open" + (exclusive ? " exclusively" : "")
                    + " (expected: no /x open of a port in use)", null);
        }
        if (pn.option("backpressure") != null) {
            setBackPressure(backPressureOption(pn, backPressure));
        }
        region.retain(); // the open's own reference, released when it closes
        ValePort p;
        try {
            p = new ValePort(pn, this, nifp);
        } catch (RuntimeException e) {
            region.close();
            throw e;
        }
        opens++;
        exclusive |= excl;
        return p;
    }

    /** Registers the krings of a new open for wake-ups. Under Vale.CONFIG. */
    void bind(Kring k) {
        if (k.tx) {
            txBound = add(txBound, k.ring.ringId(), k);
        } else {
            rxBound = add(rxBound, k.ring.ringId(), k);
        }
    }

    /** An open closed. Under Vale.CONFIG. */
    void closed(ValePort p, Kring[] krings) {
        for (Kring k : krings) {
            if (k.tx) {
                txBound = remove(txBound, k.ring.ringId(), k);
            } else {
                rxBound = remove(rxBound, k.ring.ringId(), k);
            }
        }
        opens--;
        exclusive = false;
        if (opens == 0 && !persistent) {
            destroy();
        }
    }

    int openCount() {
        return opens;
    }

    boolean isPersistent() {
        return persistent;
    }

    void makePersistent() {
        persistent = true;
        sw.portFlagsChanged(this);
    }

    /** Removes a persistent port (vale-ctl -r). Under Vale.CONFIG. */
    void destroyPersistent() {
        if (opens > 0) {
            throw new NetmapException.PortBusy("port " + fullName() + " is open " + opens
                    + " time(s) (expected: closed before it is removed)", null);
        }
        persistent = false;
        destroy();
    }

    private void destroy() {
        sw.leave(this);
        region.freeIf(nifp);
        region.close();
    }

    // ----------------------------------------------------------------------------------------------
    // sync (called by ValePort with validated head/cur, in the ring's thread)

    /**
     * The backend takes every new slot ({@code hwcur = rhead}, netmap's contract) but finishes only the
     * forwarded ones: {@code tail} stops before the first slot still waiting (back-pressure, or an
     * incomplete multi-slot packet). Waiting slots go out at the next txsync, or as soon as the full
     * destination makes room ({@link #wakeSender()}, in the receiver's thread), like a pipe's.
     */
    void txsync(Kring k) {
        int r = k.ring.ringId();
        Pending pd = pending[r];
        int next;
        pd.lock();
        try {
            pd.end = k.rhead;
            next = forwarders[r].forward(pd.next, k.rhead);
            pd.next = next;
        } finally {
            pd.unlock();
        }
        // a receiver that made room while this thread held the slots asked for another try: do it now
        forwardPending(r);
        k.hwcur = k.rhead;
        k.hwtail = k.prev(next); // synchronous TX: what was forwarded is free again
    }

    void rxsync(Kring k) {
        ((RxDst) dst[k.ring.ringId()]).rxsync(k);
    }

    void notifyRx(int ring) {
        for (Kring k : rxBound[ring]) {
            k.notifyIfWaiting();
        }
    }

    /**
     * A destination made room for packets this port's rings hold back: forward them now, in the
     * caller's thread (unless the ring's own thread is syncing it right now, and will), then wake
     * the port's user so that its next sync sees its {@code tail} move.
     */
    @Override
    void wakeSender() {
        for (int r = 0; r < pending.length; r++) {
            pending[r].requestRetry();
            forwardPending(r);
        }
        for (Kring[] ks : txBound) {
            for (Kring k : ks) {
                k.notifyIfWaiting();
            }
        }
    }

    /**
     * Forwards ring {@code r}'s held-back slots while a retry is requested and nobody else holds them.
     * A requester that finds the slots held leaves its request; the holder, after releasing them, sees
     * it here and tries again (requester: store request, then CAS the lock; holder: volatile unlock,
     * then read the request — one of the two always sees the other), so room made by a receiver is
     * never lost, even if the sender never syncs again.
     */
    private void forwardPending(int r) {
        Pending pd = pending[r];
        while (pd.retryRequested() && pd.tryLock()) {
            try {
                pd.clearRetry();
                if (pd.next != pd.end) {
                    pd.next = forwarders[r].forward(pd.next, pd.end);
                }
            } finally {
                pd.unlock();
            }
        }
    }

    /** A TX ring's slots {@code [next, end)}: handed to the backend, not forwarded yet. */
    private static final class Pending {
        private static final VarHandle LOCK = Spin.field(MethodHandles.lookup(), "lockWord", int.class);
        private static final VarHandle RETRY = Spin.field(MethodHandles.lookup(), "retryWord", int.class);
        @SuppressWarnings("unused") // accessed through LOCK
        private volatile int lockWord;
        @SuppressWarnings("unused") // accessed through RETRY
        private volatile int retryWord;
        /** Guarded by the lock. */
        int next;
        /** Guarded by the lock. */
        int end;

        Pending(int head) {
            this.next = head;
            this.end = head;
        }

        boolean tryLock() {
            return LOCK.compareAndSet(this, 0, 1);
        }

        void lock() {
            int round = 0;
            while (!tryLock()) {
                Spin.pause(round++);
            }
        }

        void unlock() {
            // volatile store -> the next holder sees next/end and the slots forwarded, and the read of
            // the retry request that follows in forwardPending is not moved before it (Dekker pair)
            LOCK.setVolatile(this, 0);
        }

        void requestRetry() {
            RETRY.setVolatile(this, 1);
        }

        boolean retryRequested() {
            return (int) RETRY.getVolatile(this) != 0;
        }

        void clearRetry() {
            RETRY.setVolatile(this, 0);
        }
    }

    @Override
    public String backend() {
        return "vale";
    }

    @Override
    public Region region() {
        return region;
    }

    @Override
    int kind() {
        return StatsLayout.KIND_VIRTUAL;
    }

    @Override
    int flags() {
        return super.flags() | (persistent ? StatsLayout.FLAG_PERSISTENT : 0)
                | (sharedRegion ? StatsLayout.FLAG_SHARED_REGION : 0);
    }

    private static Kring[][] add(Kring[][] a, int ring, Kring k) {
        Kring[][] b = a.clone();
        b[ring] = Arrays.copyOf(a[ring], a[ring].length + 1);
        b[ring][a[ring].length] = k;
        return b;
    }

    private static Kring[][] remove(Kring[][] a, int ring, Kring k) {
        Kring[][] b = a.clone();
        b[ring] = Arrays.stream(a[ring]).filter(x -> x != k).toArray(Kring[]::new);
        return b;
    }

    /**
     * The RX ring of a VALE port as a destination: the switch is its backend. The user's rxsync
     * returns released slots (hwcur, under the lock) and takes the published tail.
     */
    static final class RxDst extends DstRing {
        /**
         * Slots before it belong to the backend again (released by the user). Written by the ring's
         * user under the lock; read by senders under the lock and by the user without it.
         */
        private int hwcur;

        RxDst(VirtualPort port, RingRef ring) {
            super(port, ring, ring.storedTail());
            this.hwcur = ring.storedHead();
        }

        @Override
        int free() {
            return distance(lease, hwcur == 0 ? numSlots - 1 : hwcur - 1);
        }

        @Override
        void publish(int upTo) {
            // the receiver takes `published` at its next rxsync, under the lock
        }

        @Override
        void wakeReceiver() {
            ((VirtualPort) port).notifyRx(ring.ringId());
        }

        /**
         * Takes back the slots the user released and publishes what senders completed. When the user
         * released nothing (a receiver polling an empty ring), nothing changes for the senders: the
         * published tail is read without the lock, so a busy-polling receiver does not fight senders
         * for the lock's cache line.
         */
        void rxsync(Kring k) {
            if (k.rhead == hwcur) {
                // hwcur is written only here, by the ring's user: reading it without the lock is safe
                k.hwtail = publishedVolatile();
                k.hwcur = k.rhead;
                return;
            }
            boolean wake;
            lock();
            try {
                wake = senderWaiting && hwcur != k.rhead;
                if (wake) {
                    senderWaiting = false;
                }
                hwcur = k.rhead;
                k.hwtail = published;
            } finally {
                unlock();
            }
            k.hwcur = k.rhead;
            if (wake) {
                port.sw.wakeBackPressured();
            }
        }
    }
}
