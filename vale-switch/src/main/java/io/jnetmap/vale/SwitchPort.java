package io.jnetmap.vale;

import io.jnetmap.core.Region;
import io.jnetmap.vale.ctl.SwitchFileLayout;

/**
 * A port of a switch, as the switch sees it: where packets for it go (its destination rings) and
 * where its packets come from (one {@link Forwarder} per source ring). Two kinds: a VALE port opened
 * by name ({@code valeS:P}, rings in its own region) and an attached port (any {@link io.jnetmap.core.Port}
 * driven by a polling thread, see {@link ValeSwitch#attach}).
 */
public abstract class SwitchPort {
    final ValeSwitch sw;
    final String name;
    /** Index in the switch (0..253); written before the port is published, -1 once it left. */
    volatile int index = -1;
    /** Whether this port's packets wait for room instead of being dropped (see {@link #setBackPressure}). */
    volatile boolean backPressure;
    /** Destination rings (at least one). Fixed once the port joined. */
    DstRing[] dst;
    /** Source rings' forwarders. Fixed once the port joined. */
    Forwarder[] forwarders;

    SwitchPort(ValeSwitch sw, String name) {
        this.sw = sw;
        this.name = name;
    }

    /** The port's name in its switch ({@code a} for {@code vale0:a}, the interface name for a NIC). */
    public String name() {
        return name;
    }

    /** The switch's full name for the port ({@code vale0:a}). */
    public String fullName() {
        return sw.name() + ":" + name;
    }

    public ValeSwitch valeSwitch() {
        return sw;
    }

    /** Index in the switch (what a {@link LookupModule} returns for it); -1 once the port left. */
    public int index() {
        return index;
    }

    /** What moves this port's packets ({@code "vale"}, or the attached port's backend). */
    public abstract String backend();

    /** The region holding the port's rings: ports of one region exchange buffers by index swap. */
    public abstract Region region();

    /** {@link SwitchFileLayout#KIND_VIRTUAL} or {@link SwitchFileLayout#KIND_ATTACHED}. */
    abstract int kind();

    /** Rings per direction (for listings). */
    public int rings() {
        return Math.max(dst.length, forwarders.length);
    }

    public boolean backPressure() {
        return backPressure;
    }

    /**
     * With back-pressure on, a packet from this port that finds a destination full stays in this
     * port's ring (its {@code tail} does not pass it) until the destination makes room, as with pipes;
     * off (the default, VALE's semantics), it is dropped and counted.
     */
    public void setBackPressure(boolean on) {
        backPressure = on;
        sw.portFlagsChanged(this);
    }

    /** A destination ring made room while a back-pressured packet of this port waited: wake the sender. */
    abstract void wakeSender();

    /** The destination ring for packets from source ring {@code srcRing}. */
    final DstRing dst(int srcRing) {
        DstRing[] d = dst;
        return d.length == 1 ? d[0] : d[srcRing % d.length];
    }

    int flags() {
        return (backPressure ? SwitchFileLayout.FLAG_BACKPRESSURE : 0);
    }

    /**
     * Takes the port out of the switch ({@code vale-ctl -d}): an attached port stops being polled, a
     * persistent VALE port is destroyed (refused while it is open). Under ValeSwitches.CONFIG.
     */
    abstract void detach();

    /**
     * Undoes what other processes made of this port through its switch's mailbox (their opens of a
     * VALE port, an attachment for a remote port): all of it, or ({@code onlyOrphans}) what belongs
     * to processes that died or broke a pipe's rules. Under ValeSwitches.CONFIG.
     */
    abstract void closeRemoteOpens(boolean onlyOrphans);

    /** Opens of the port by name still open (a VALE port's users); 0 for an attached port. */
    int openCount() {
        return 0;
    }

    /** Current value of sender counter {@code c} ({@link SwitchFileLayout#TX_PACKETS} ...). */
    public long txCounter(int c) {
        int i = index;
        return i < 0 ? 0 : sw.stats().tx(i, c);
    }

    /** Current value of receiver counter {@code c} ({@link SwitchFileLayout#RX_PACKETS} ...). */
    public long rxCounter(int c) {
        int i = index;
        return i < 0 ? 0 : sw.stats().rx(i, c);
    }

    /**
     * Slots of the port's receive rings (where the switch delivers to it) holding packets the port has
     * not taken yet: a snapshot read without any lock, for metrics; 0 once the port left.
     */
    public int ringOccupancy() {
        if (index < 0) {
            return 0;
        }
        int n = 0;
        for (DstRing d : dst) {
            n += d.occupancy();
        }
        return n;
    }

    /** Packets the port's receive rings can hold ({@code numSlots - 1} each). */
    public int ringCapacity() {
        int n = 0;
        for (DstRing d : dst) {
            n += d.numSlots - 1;
        }
        return n;
    }

    /** Sum of the sender's drop counters (every cause). */
    public long drops() {
        long d = 0;
        for (int c = SwitchFileLayout.DROP_FULL; c <= SwitchFileLayout.DROP_NOT_IP; c++) {
            d += txCounter(c);
        }
        return d;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + fullName() + " #" + index + ", " + backend() + "]";
    }
}
