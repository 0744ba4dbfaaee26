package io.jnetmap.core;

import io.jnetmap.core.spi.AbstractPort;
import io.jnetmap.core.spi.Kring;

/**
 * The simplest backend, for the core's own tests and as a template: one TX and one RX ring of the
 * same size per port, and what is sent on TX arrives on RX of the same port. As in netmap's pipes, TX
 * slot k maps to RX slot k: txsync swaps the descriptors of {@code [hwcur, head)} into the RX ring
 * (zero copy, NS_BUF_CHANGED set) and takes everything ({@code hwcur = head}); back-pressure comes from
 * TX {@code tail}, which advances only as the receiver releases RX slots.
 */
public final class LoopbackPort extends AbstractPort {
    private final Kring tx;
    private final Kring rx;

    private LoopbackPort(PortName name, NetmapIf nifp) {
        super(name, nifp, "loopback");
        this.tx = txKring(0);
        this.rx = rxKring(0);
    }

    /** A loopback port with rings of {@code slots} slots and {@code extraBufs} extra buffers, in a private region. */
    public static LoopbackPort open(String name, int slots, int extraBufs) {
        PortName pn = PortName.parse(name);
        Region region = Region.createPrivate(Geometry.forRings(1, 2, slots, extraBufs, 0, Geometry.DEFAULT_BUF_SIZE));
        try {
            NetmapIf nifp = region.allocIf(new IfSpec(pn.withoutOptions(), 0, 1, 1, 0, 0, slots, slots, extraBufs));
            return new LoopbackPort(pn, nifp);
        } catch (RuntimeException e) {
            region.close();
            throw e;
        }
    }

    @Override
    protected void txsync(Kring k) {
        Ring t = k.ring;
        Ring r = rx.ring;
        int n = k.distance(k.hwcur, k.rhead);
        if (n == 0) {
            return;
        }
        for (int i = k.hwcur, c = 0; c < n; c++, i = k.next(i)) {
            int len = t.len(i);
            int flags = t.flags(i);
            Ring.swap(t, i, r, i); // RX slot i was released by the receiver: mirrors keep it so
            r.setLen(i, len);
            r.setFlags(i, flags | Slot.NS_BUF_CHANGED);
        }
        k.hwcur = k.rhead;
        rx.hwtail = k.rhead; // published to the receiver at its next rxsync
        rx.notifyIfWaiting();
    }

    @Override
    protected void rxsync(Kring k) {
        if (k.hwcur == k.rhead) {
            return;
        }
        k.hwcur = k.rhead;
        tx.hwtail = k.prev(k.rhead); // released RX slots become TX room
        tx.notifyIfWaiting();
    }
}
