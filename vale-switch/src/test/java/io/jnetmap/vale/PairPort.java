package io.jnetmap.vale;

import io.jnetmap.core.Geometry;
import io.jnetmap.core.IfSpec;
import io.jnetmap.core.NetmapIf;
import io.jnetmap.core.PortName;
import io.jnetmap.core.Region;
import io.jnetmap.core.Ring;
import io.jnetmap.core.Slot;
import io.jnetmap.core.spi.AbstractPort;
import io.jnetmap.core.spi.Kring;

/**
 * A test stand-in for a pipe (the pipes module is not a dependency of the switch): two ports in one
 * region, what one sends the other receives, slot k of a TX ring mapping to slot k of the peer's RX
 * ring (descriptors swapped, zero copy), back-pressure through TX {@code tail}. Its two ends may be
 * used from two threads: what one end's sync publishes for the other goes through volatile fields.
 */
final class PairPort extends AbstractPort {
    private PairPort peer;
    private final Kring tx;
    private final Kring rx;
    /** Written by the peer's txsync: the peer's TX head = our RX tail. */
    private volatile int rxTail;
    /** Written by the peer's rxsync: slots the peer released, our TX tail + 1. */
    private volatile int txRoom;

    private PairPort(PortName name, NetmapIf nifp) {
        super(name, nifp, "test-pair");
        this.tx = txKring(0);
        this.rx = rxKring(0);
        this.rxTail = rx.hwtail;
        this.txRoom = tx.hwtail;
    }

    /** Two connected ends named {@code name{0} and {@code name}0}, rings of {@code slots} slots. */
    static PairPort[] open(String name, int slots) {
        Region region = Region.createPrivate(Geometry.forRings(2, 4, slots, 16, 0, Geometry.DEFAULT_BUF_SIZE));
        try {
            region.retain();
            PairPort a = new PairPort(PortName.parse(name + "{0"), region.allocIf(new IfSpec(name + "{0", 0, 1, 1, 0, 0, slots, slots, 8)));
            PairPort b = new PairPort(PortName.parse(name + "}0"), region.allocIf(new IfSpec(name + "}0", 0, 1, 1, 0, 0, slots, slots, 8)));
            a.peer = b;
            b.peer = a;
            return new PairPort[] {a, b};
        } catch (RuntimeException e) {
            region.close();
            throw e;
        }
    }

    @Override
    protected void txsync(Kring k) {
        Ring t = k.ring;
        Ring r = peer.rx.ring;
        for (int i = k.hwcur; i != k.rhead; i = k.next(i)) {
            int len = t.len(i);
            int flags = t.flags(i);
            Ring.swap(t, i, r, i); // RX slot i was released by the peer: TX tail never passes it
            r.setLen(i, len);
            r.setFlags(i, flags | Slot.NS_BUF_CHANGED);
        }
        k.hwcur = k.rhead;
        peer.rxTail = k.rhead; // volatile store -> the swapped slots are visible to the peer's rxsync
        peer.rx.notifyIfWaiting();
        k.hwtail = txRoom;
    }

    @Override
    protected void rxsync(Kring k) {
        k.hwcur = k.rhead;
        peer.txRoom = k.prev(k.rhead);
        peer.tx.notifyIfWaiting();
        k.hwtail = rxTail;
    }
}
