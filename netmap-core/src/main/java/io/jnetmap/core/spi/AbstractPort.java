package io.jnetmap.core.spi;

import io.jnetmap.core.NetmapException;
import io.jnetmap.core.NetmapIf;
import io.jnetmap.core.Port;
import io.jnetmap.core.PortName;
import io.jnetmap.core.Region;
import io.jnetmap.core.Ring;
import io.jnetmap.poll.Pollable;
import io.jnetmap.sys.EventFd;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Base of every port kind: binds the rings of a descriptor, runs netmap's sync prologue and
 * epilogue ({@link Kring#sync()}), provides the eventfd-backed {@link Pollable}, and returns
 * everything at close. A port kind implements {@link #txsync(Kring)} and {@link #rxsync(Kring)}
 * (the contract is on {@link Kring}) and may override {@link #onClose()} and {@link #pollable()}.
 *
 * <p>Ports are found by name again ({@code Netmap.findOpen}, {@code @share=}, monitors) through
 * {@code Netmap}'s registry, which drops a port once it reports {@link #isClosed()}: a port does not
 * deregister itself.
 */
public abstract class AbstractPort implements Port {
    private static final VarHandle CLOSED;

    static {
        try {
            CLOSED = MethodHandles.lookup().findVarHandle(AbstractPort.class, "closed", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final PortName portName;
    private final Region region;
    private final NetmapIf nifp;
    private final String backend;
    private final Kring[] txKrings;
    private final Kring[] rxKrings;
    private final EventFd eventFd;
    private final PortPollable pollable;
    /** Set once, by the first {@link #close()} (CAS through {@code CLOSED}); read by every sync. */
    private volatile boolean closed;

    /**
     * Binds the rings {@code name}'s mode selects ({@code -N}, {@code ^}, {@code *}, {@code /R},
     * {@code /T}) of {@code nifp}. The port takes over one reference to {@code nifp.region()} (released
     * at close).
     */
    protected AbstractPort(PortName name, NetmapIf nifp, String backend) {
        this(name, nifp, backend, false);
    }

    /**
     * As above; with {@code bindAll} every ring of {@code nifp} is bound whatever the name's mode
     * (a monitor of {@code netmap:eth0-1} has one ring pair of its own, ring 0).
     */
    protected AbstractPort(PortName name, NetmapIf nifp, String backend, boolean bindAll) {
        this.portName = name;
        this.nifp = nifp;
        this.region = nifp.region();
        this.backend = backend;
        int nicTx = nifp.txRings();
        int nicRx = nifp.rxRings();
        int hostTx = nifp.hostTxRings();
        int hostRx = nifp.hostRxRings();
        int[] tx = bindAll ? new int[] {0, nicTx + hostTx} : select(name, nicTx, hostTx, "tx");
        int[] rx = bindAll ? new int[] {0, nicRx + hostRx} : select(name, nicRx, hostRx, "rx");
        if (!bindAll && name.hasFlag(PortName.RX_RINGS_ONLY)) {
            tx = new int[] {0, 0};
        }
        if (!bindAll && name.hasFlag(PortName.TX_RINGS_ONLY)) {
            rx = new int[] {0, 0};
        }
        this.txKrings = new Kring[tx[1] - tx[0]];
        this.rxKrings = new Kring[rx[1] - rx[0]];
        this.eventFd = EventFd.create();
        try {
            for (int i = 0; i < txKrings.length; i++) {
                int idx = tx[0] + i;
                txKrings[i] = new Kring(this, nifp.ringOffset(idx), idx);
                txKrings[i].setNotifier(eventFd);
            }
            int rxBase = nicTx + hostTx;
            for (int i = 0; i < rxKrings.length; i++) {
                int idx = rxBase + rx[0] + i;
                rxKrings[i] = new Kring(this, nifp.ringOffset(idx), idx);
                rxKrings[i].setNotifier(eventFd);
            }
        } catch (RuntimeException e) {
            eventFd.close(); // a descriptor corrupted by a peer must not leak our fd
            throw e;
        }
        this.pollable = new PortPollable();
    }

    /** [first, last) among this direction's rings (NIC rings, then host rings) that the mode binds. */
    private static int[] select(PortName name, int nic, int host, String dir) {
        return switch (name.mode()) {
            case ALL_NIC, PIPE_MASTER, PIPE_SLAVE -> new int[] {0, nic};
            case ONE_NIC -> {
                if (name.ringId() >= nic) {
                    throw new IllegalArgumentException("ring=" + name.ringId() + " in " + name.text()
                            + " (expected: 0.." + (nic - 1) + ", the port has " + nic + " " + dir + " rings)");
                }
                yield new int[] {name.ringId(), name.ringId() + 1};
            }
            case SW -> new int[] {nic, nic + host};
            case ONE_SW -> {
                if (name.ringId() >= host) {
                    throw new IllegalArgumentException("host ring=" + name.ringId() + " in " + name.text()
                            + " (expected: 0.." + (host - 1) + ", the port has " + host + " host " + dir + " rings)");
                }
                yield new int[] {nic + name.ringId(), nic + name.ringId() + 1};
            }
            case NIC_SW -> new int[] {0, nic + host};
        };
    }

    /** Moves TX slots {@code [k.hwcur, k.rhead)} out and reclaims finished ones; see {@link Kring}. */
    protected abstract void txsync(Kring k);

    /** Takes back released RX slots {@code [k.hwcur, k.rhead)} and brings new packets; see {@link Kring}. */
    protected abstract void rxsync(Kring k);

    /** Releases the backend's resources; called once, before the descriptor and region are released. */
    protected void onClose() {
    }

    /** Whether close frees the descriptor (false when another party, e.g. a peer process, owns it). */
    protected boolean freesDescriptorOnClose() {
        return true;
    }

    /**
     * Whether a zero-copy monitor ({@code /z}) may intercept this port's rings ({@link RingGate}): false
     * unless the kind says otherwise. A kind says true when its backend reads every slot's
     * {@code bufIdx} at the sync that takes the slot (the monitor swaps buffers in and out of slots the
     * backend has not taken yet), lets its txsync and rxsync run on any thread one at a time (the
     * monitor's thread pushes what it releases), and keeps its buffers in its region, where the
     * monitor's rings are placed.
     */
    public boolean supportsZeroCopyMonitor() {
        return false;
    }

    final void checkOpen() {
        if (closed) {
            throw new NetmapException.Closed("port " + name() + " is closed");
        }
    }

    @Override
    public String name() {
        return portName.text();
    }

    @Override
    public PortName portName() {
        return portName;
    }

    @Override
    public String backend() {
        return backend;
    }

    @Override
    public Region region() {
        return region;
    }

    @Override
    public NetmapIf netmapIf() {
        return nifp;
    }

    @Override
    public int txRings() {
        return txKrings.length;
    }

    @Override
    public int rxRings() {
        return rxKrings.length;
    }

    @Override
    public Ring txRing(int i) {
        return txKrings[i].ring;
    }

    @Override
    public Ring rxRing(int i) {
        return rxKrings[i].ring;
    }

    /** The backend state of bound TX ring {@code i} (public for taps such as monitors, which watch another port). */
    public final Kring txKring(int i) {
        return txKrings[i];
    }

    /** The backend state of bound RX ring {@code i}. */
    public final Kring rxKring(int i) {
        return rxKrings[i];
    }

    @Override
    public void txSync() {
        for (Kring k : txKrings) {
            k.sync();
        }
    }

    @Override
    public void rxSync() {
        for (Kring k : rxKrings) {
            k.sync();
        }
    }

    @Override
    public Pollable pollable() {
        return pollable;
    }

    /**
     * The descriptor a waiter blocks on ({@link Pollable#fd()}): the port's eventfd by default. A
     * kernel-backed port returns its socket or TAP descriptor, which the kernel makes ready itself.
     */
    protected int pollFd() {
        return eventFd.fd();
    }

    /** The events to wait for on {@link #pollFd()} for {@code interest}: IN for the eventfd. */
    protected int pollFdEvents(int interest) {
        return Pollable.IN;
    }

    /** The port's own wake-up descriptor (default notifier of every bound ring). */
    protected EventFd eventFd() {
        return eventFd;
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public final void close() {
        if (!CLOSED.compareAndSet(this, false, true)) {
            return;
        }
        try {
            // a zero-copy monitor's thread may be moving these rings: it lets go before anything is freed
            for (Kring k : txKrings) {
                k.portClosing();
            }
            for (Kring k : rxKrings) {
                k.portClosing();
            }
            onClose();
        } finally {
            try {
                if (freesDescriptorOnClose()) {
                    region.freeIf(nifp);
                }
            } finally {
                eventFd.close();
                region.close();
            }
        }
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + name() + ", backend=" + backend + ", region=" + region.name()
                + ", tx=" + txKrings.length + ", rx=" + rxKrings.length + "]";
    }

    /** netmap's poll() over the bound rings, with need-wake-up flags in the rings' USER_WAIT words. */
    private final class PortPollable implements Pollable {
        @Override
        public int fd() {
            return pollFd();
        }

        @Override
        public int fdEvents(int interest) {
            return pollFdEvents(interest);
        }

        @Override
        public int pollNow(int interest) {
            int ready = 0;
            boolean out = (interest & OUT) != 0;
            for (Kring k : txKrings) {
                Ring r = k.ring;
                if (out || r.head() != k.hwcur) {
                    k.sync();
                }
                if (out && r.cur() != r.tail()) {
                    ready |= OUT;
                }
            }
            if ((interest & IN) != 0) {
                for (Kring k : rxKrings) {
                    k.sync();
                    Ring r = k.ring;
                    if (r.cur() != r.tail()) {
                        ready |= IN;
                    }
                }
            }
            return ready;
        }

        @Override
        public int arm(int interest) {
            if ((interest & OUT) != 0) {
                for (Kring k : txKrings) {
                    k.svUserWait(OUT);
                }
            }
            if ((interest & IN) != 0) {
                for (Kring k : rxKrings) {
                    k.svUserWait(IN);
                }
            }
            return pollNow(interest);
        }

        @Override
        public void disarm() {
            for (Kring k : txKrings) {
                k.svUserWait(0);
            }
            for (Kring k : rxKrings) {
                k.svUserWait(0);
            }
            eventFd.drain();
        }

        @Override
        public String toString() {
            return "pollable of " + name();
        }
    }
}
