package io.jnetmap.vale;

import io.jnetmap.core.Geometry;
import io.jnetmap.core.IfSpec;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.NetmapException;
import io.jnetmap.core.NetmapIf;
import io.jnetmap.core.PortName;
import io.jnetmap.core.Region;
import io.jnetmap.core.spi.Kring;
import io.jnetmap.core.spi.SpinLock;

import io.jnetmap.vale.ctl.SwitchFileLayout;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A VALE port ({@code valeS:P}): rings in the port's own region (or, with {@code @share=}, in another
 * port's region), the switch as the rings' backend. Its TX rings are sources (forwarding runs inside
 * txsync), its RX rings destinations ({@link RxDst}). Every open of the name binds the same rings
 * ({@link ValeBinding}); the port leaves the switch when the last open closes, unless it is persistent.
 */
final class VirtualPort extends SwitchPort {
    /** Port-kind tag in the interface descriptor: "VALE". */
    static final int IF_KIND = 0x454c4156;
    /** Most rings per direction (netmap's NM_BDG_MAXRINGS). */
    static final int MAX_RINGS = 16;

    private final Region region;
    private final NetmapIf nifp;
    private final boolean sharedRegion;
    /** Guarded by ValeSwitches.CONFIG. */
    private int opens;
    /** Guarded by ValeSwitches.CONFIG. */
    private boolean persistent;
    /** Guarded by ValeSwitches.CONFIG. */
    private boolean exclusive;
    /** Per TX ring, the krings of every open binding it (notified when room appears). */
    private volatile Kring[][] txBound;
    /** Opens of this port by other processes, relayed by threads of this one. Guarded by ValeSwitches.CONFIG. */
    final List<RemoteBinding> remotes = new ArrayList<>();
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
            dst[i] = new RxDst(name, RingRef.at(region, nifp.rxRingOffset(i)), sw::wakeBackPressured);
        }
        this.forwarders = new Forwarder[ntx];
        this.pending = new Pending[ntx];
        for (int i = 0; i < ntx; i++) {
            RingRef ref = RingRef.at(region, nifp.txRingOffset(i));
            forwarders[i] = new Forwarder(sw.views(), this, ref, i);
            pending[i] = new Pending(ref.lpHead());
        }
        this.txBound = new Kring[ntx][0];
    }

    /**
     * Creates the port described by {@code pn} ({@code @conf:} sizes, {@code @share=} region) and joins
     * it to {@code sw}. Under ValeSwitches.CONFIG.
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

    /** A new open of this port. Under ValeSwitches.CONFIG. */
    ValeBinding open(PortName pn) {
        boolean excl = pn.hasFlag(PortName.EXCLUSIVE);
        if (exclusive || (excl && opens > 0)) {
            throw new NetmapException.PortBusy("port " + fullName() + " is open" + (exclusive ? " exclusively" : "")
                    + " (expected: no /x open of a port in use)", null);
        }
        if (pn.option("backpressure") != null) {
            setBackPressure(backPressureOption(pn, backPressure));
        }
        region.retain(); // the open's own reference, released when it closes
        ValeBinding p;
        try {
            p = new ValeBinding(pn, this, nifp);
        } catch (RuntimeException e) {
            region.close();
            throw e;
        }
        opens++;
        exclusive |= excl;
        return p;
    }

    /** Registers the krings of a new open for wake-ups. Under ValeSwitches.CONFIG. */
    void bind(Kring k) {
        if (k.tx) {
            txBound = add(txBound, k.ring.ringId(), k);
        } else {
            ((RxDst) dst[k.ring.ringId()]).bind(k);
        }
    }

    /** An open closed. Under ValeSwitches.CONFIG. */
    void closed(ValeBinding p, Kring[] krings) {
        for (Kring k : krings) {
            if (k.tx) {
                txBound = remove(txBound, k.ring.ringId(), k);
            } else {
                ((RxDst) dst[k.ring.ringId()]).unbind(k);
            }
        }
        opens--;
        exclusive = false;
        if (opens == 0 && !persistent) {
            destroy();
        }
    }

    @Override
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

    @Override
    void detach() {
        destroyPersistent();
    }

    @Override
    void closeRemoteOpens(boolean onlyOrphans) {
        for (RemoteBinding rb : List.copyOf(remotes)) {
            if (!onlyOrphans || rb.orphaned()) {
                rb.close(false);
            }
        }
    }

    /** Removes a persistent port (vale-ctl -r). Under ValeSwitches.CONFIG. */
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
    // sync (called by ValeBinding with validated head/cur, in the ring's thread)

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
        VarHandle.fullFence(); // the unlock before forwardPending's read of a retry request (Dekker pair)
        // a receiver that made room while this thread held the slots asked for another try: do it now
        forwardPending(r);
        k.hwcur = k.rhead;
        k.hwtail = k.prev(next); // synchronous TX: what was forwarded is free again
    }

    void rxsync(Kring k) {
        ((RxDst) dst[k.ring.ringId()]).rxsync(k);
    }

    /**
     * A destination made room for packets this port's rings hold back: forward them now, in the
     * caller's thread (unless the ring's own thread is syncing it right now, and will), then wake
     * the port's user so that its next sync sees its {@code tail} move.
     */
    @Override
    void wakeSender() {
        for (int r = 0; r < pending.length; r++) {
            pending[r].svRetry(true); // volatile store, then the CAS of tryLock: see forwardPending
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
     * it here and tries again (requester: store request, then CAS the lock; holder: unlock and a full fence,
     * then read the request — one of the two always sees the other), so room made by a receiver is
     * never lost, even if the sender never syncs again.
     */
    private void forwardPending(int r) {
        Pending pd = pending[r];
        while (pd.lvRetry() && pd.tryLock()) {
            try {
                pd.svRetry(false);
                if (pd.next != pd.end) {
                    pd.next = forwarders[r].forward(pd.next, pd.end);
                }
            } finally {
                pd.unlock();
            }
            // the unlock before the re-read of the request (Dekker pair with wakeSender)
            VarHandle.fullFence();
        }
    }

    /** A TX ring's slots {@code [next, end)}: handed to the backend, not forwarded yet. Guarded by its lock. */
    private static final class Pending extends SpinLock {
        private static final VarHandle RETRY = VarHandles.field(MethodHandles.lookup(), "retry", boolean.class);
        /** A receiver made room while the slots were held: the holder tries again after unlocking. */
        @SuppressWarnings("unused") // accessed through RETRY
        private volatile boolean retry;
        /** Guarded by the lock. */
        int next;
        /** Guarded by the lock. */
        int end;

        Pending(int head) {
            this.next = head;
            this.end = head;
        }

        void svRetry(boolean on) {
            RETRY.setVolatile(this, on);
        }

        boolean lvRetry() {
            return (boolean) RETRY.getVolatile(this);
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
        return SwitchFileLayout.KIND_VIRTUAL;
    }

    @Override
    int flags() {
        return super.flags() | (persistent ? SwitchFileLayout.FLAG_PERSISTENT : 0)
                | (sharedRegion ? SwitchFileLayout.FLAG_SHARED_REGION : 0);
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
}
