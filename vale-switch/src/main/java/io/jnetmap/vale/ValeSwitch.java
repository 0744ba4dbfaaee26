package io.jnetmap.vale;

import io.jnetmap.core.NetmapException;
import io.jnetmap.core.Port;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * A VALE-style software switch: up to {@link Lookup#MAX_PORTS} ports, a {@link Lookup} module
 * deciding where each packet goes ({@link LearningBridge} by default), forwarding done by the senders
 * themselves (no switch thread; see {@link Forwarder}), counters readable from other processes
 * ({@link StatsLayout}).
 *
 * <p>Switches are created on demand by opening a port ({@code Netmap.open("vale0:a")}; such a switch
 * goes away with its last port) or explicitly with {@link Vale#create} (it stays until
 * {@link #close()}). Ports join through {@code Netmap.open("valeS:P")} (VALE ports) or
 * {@link #attach(Port, AttachOptions)} (any port: NIC, host stack, pipe end), and leave when closed or
 * {@linkplain #detach detached}.
 *
 * <p>Configuration (ports joining and leaving, the lookup module) is serialised by one lock per
 * process ({@link Vale}); forwarding never takes it. A port leaves in two steps: it is removed from the
 * published port table, then the switch waits until every forwarder that may still have seen it has
 * finished its batch (each forwarder's sequence number is odd during a batch), so its memory is never
 * released under a sender's copy.
 */
public final class ValeSwitch implements AutoCloseable {
    /** The published port table: replaced, never modified, so forwarders read it without a lock. */
    static final class Ports {
        static final Ports EMPTY = new Ports(new SwitchPort[Lookup.MAX_PORTS], new SwitchPort[0]);
        final SwitchPort[] byIndex;
        /** The ports in index order. */
        final SwitchPort[] list;

        private Ports(SwitchPort[] byIndex, SwitchPort[] list) {
            this.byIndex = byIndex;
            this.list = list;
        }

        Ports with(SwitchPort p) {
            SwitchPort[] b = byIndex.clone();
            b[p.index] = p;
            return new Ports(b, compact(b));
        }

        Ports without(SwitchPort p) {
            SwitchPort[] b = byIndex.clone();
            b[p.index] = null;
            return new Ports(b, compact(b));
        }

        private static SwitchPort[] compact(SwitchPort[] b) {
            return Arrays.stream(b).filter(x -> x != null).toArray(SwitchPort[]::new);
        }
    }

    private final String name;
    private final boolean persistent;
    private final SwitchStats stats;
    private volatile Ports ports = Ports.EMPTY;
    private volatile Lookup lookup;
    private volatile LongSupplier clock = System::nanoTime;
    /** Guarded by Vale.CONFIG. */
    private boolean closed;

    ValeSwitch(String name, Lookup lookup, boolean persistent) {
        this.name = name;
        this.persistent = persistent;
        this.lookup = lookup;
        this.stats = SwitchStats.create(name, lookup.name());
    }

    // ----------------------------------------------------------------------------------------------
    // forwarding side (no lock)

    Ports ports() {
        return ports;
    }

    /** The lookup module (read once per batch by forwarders). */
    public Lookup lookup() {
        return lookup;
    }

    long now() {
        return clock.getAsLong();
    }

    SwitchStats stats() {
        return stats;
    }

    /** A receiver made room in a ring a back-pressured sender found full: wake those senders. */
    void wakeBackPressured() {
        for (SwitchPort p : ports.list) {
            if (p.backPressure) {
                p.wakeSender();
            }
        }
    }

    // ----------------------------------------------------------------------------------------------
    // identity and listing

    /** {@code vale0}, {@code vale} ... */
    public String name() {
        return name;
    }

    /** True if made by {@link Vale#create} (stays without ports), false if made by opening a port. */
    public boolean isPersistent() {
        return persistent;
    }

    /** The ports, in index order. */
    public List<SwitchPort> portList() {
        return List.of(ports.list);
    }

    /** The port called {@code portName} ({@code a} for {@code vale0:a}), if any. */
    public Optional<SwitchPort> port(String portName) {
        for (SwitchPort p : ports.list) {
            if (p.name.equals(portName)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** The counters file other processes read, if it could be created. */
    public Optional<Path> statsFile() {
        return Optional.ofNullable(stats.file());
    }

    // ----------------------------------------------------------------------------------------------
    // configuration

    /**
     * Replaces the lookup module. When this returns, no forwarder uses the old one any more. The new
     * module learns the current ports through {@link Lookup#portAttached}.
     */
    public void setLookup(Lookup module) {
        synchronized (Vale.CONFIG) {
            checkOpen();
            for (SwitchPort p : ports.list) {
                module.portAttached(p.index, p.name);
            }
            lookup = module;
            stats.setLookupName(module.name());
            quiesceAll(ports);
        }
    }

    /** The clock modules age entries with (tests drive it by hand). */
    void setClock(LongSupplier clock) {
        this.clock = clock;
    }

    /**
     * Attaches {@code port} (a NIC, a host-stack port, a pipe end, any {@link Port}) as a switch port
     * named {@code options.name()} (default: the port's own name without its kind prefix). A polling
     * thread then forwards what arrives on the port's RX rings into the switch and runs txsync on its
     * TX rings for what the switch delivers, as VALE's polling kthreads do for NICs. The switch becomes
     * the port's only user until {@link #detach}; the port is closed on detach if
     * {@link AttachOptions#closeOnDetach()}.
     */
    public AttachedPort attach(Port port, AttachOptions options) {
        synchronized (Vale.CONFIG) {
            checkOpen();
            AttachedPort ap = new AttachedPort(this, port, options);
            join(ap);
            ap.start();
            return ap;
        }
    }

    /** {@link #attach(Port, AttachOptions)} with default options. */
    public AttachedPort attach(Port port) {
        return attach(port, AttachOptions.defaults());
    }

    /**
     * Detaches port {@code portName}: an attached port stops being polled (and is closed if so
     * configured); a persistent VALE port is destroyed. Fails if it is a VALE port still open (close
     * it instead), as netmap refuses to remove a port in use.
     */
    public void detach(String portName) {
        synchronized (Vale.CONFIG) {
            SwitchPort p = port(portName).orElseThrow(() -> new NetmapException("no port \"" + portName
                    + "\" on switch " + name + " (ports: " + names() + ")"));
            if (p instanceof VirtualPort vp) {
                vp.destroyPersistent();
            } else {
                ((AttachedPort) p).detachFromSwitch();
            }
        }
    }

    private String names() {
        return String.join(", ", Arrays.stream(ports.list).map(SwitchPort::name).toList());
    }

    /** Adds {@code p} at the lowest free index. Under Vale.CONFIG. */
    void join(SwitchPort p) {
        checkOpen();
        if (port(p.name).isPresent()) {
            throw new NetmapException.PortBusy("switch " + name + " already has a port \"" + p.name + "\"", null);
        }
        Ports cur = ports;
        int idx = -1;
        for (int i = 0; i < Lookup.MAX_PORTS; i++) {
            if (cur.byIndex[i] == null) {
                idx = i;
                break;
            }
        }
        if (idx < 0) {
            throw new NetmapException("switch " + name + " is full: " + Lookup.MAX_PORTS
                    + " ports (expected: fewer; close or detach one, or use another switch)");
        }
        if (p.dst == null || p.dst.length == 0) {
            throw new IllegalArgumentException("port " + p.name + " has no ring the switch could deliver to"
                    + " (expected: at least one TX ring)");
        }
        p.index = idx;
        stats.openPort(idx, p.kind(), p.flags(), p.rings(), p.name, p.backend());
        lookup.portAttached(idx, p.name);
        // volatile store -> forwarders starting from now see the port
        ports = cur.with(p);
    }

    /**
     * Removes {@code p} and waits until no forwarder can still be using it; an ephemeral switch left
     * without ports goes away. Under Vale.CONFIG.
     */
    void leave(SwitchPort p) {
        Ports old = ports;
        if (p.index < 0 || old.byIndex[p.index] != p) {
            return;
        }
        // volatile store, then the forwarders' sequence numbers (volatile reads): a forwarder that
        // started after this store sees the new table; one that started before is waited for
        ports = old.without(p);
        quiesceAll(old);
        lookup.portDetached(p.index);
        stats.closePort(p.index);
        p.index = -1;
        if (!persistent && ports.list.length == 0) {
            destroy();
        }
    }

    private static void quiesceAll(Ports ports) {
        for (SwitchPort q : ports.list) {
            q.quiesce();
        }
    }

    void portFlagsChanged(SwitchPort p) {
        int i = p.index;
        if (i >= 0) {
            stats.setPortFlags(i, p.flags());
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new NetmapException.Closed("switch " + name + " is closed");
        }
    }

    boolean isClosed() {
        return closed;
    }

    /**
     * Destroys the switch: detaches attached ports and destroys persistent ones. Fails while VALE
     * ports opened by name are still open. Idempotent.
     */
    @Override
    public void close() {
        synchronized (Vale.CONFIG) {
            if (closed) {
                return;
            }
            for (SwitchPort p : ports.list) {
                if (p instanceof VirtualPort vp && vp.openCount() > 0) {
                    throw new NetmapException.PortBusy("switch " + name + " still has open port " + p.fullName()
                            + " (expected: every port closed first)", null);
                }
            }
            List<SwitchPort> all = new ArrayList<>(List.of(ports.list));
            for (SwitchPort p : all) {
                detach(p.name);
            }
            destroy();
        }
    }

    /** Destroys an ephemeral switch that has no port (left over by a failed open). Under Vale.CONFIG. */
    void closeIfUnused() {
        if (!persistent && ports.list.length == 0) {
            destroy();
        }
    }

    private void destroy() {
        if (!closed) {
            closed = true;
            Vale.removed(this);
            stats.close();
        }
    }

    @Override
    public String toString() {
        return "ValeSwitch[" + name + ", " + ports.list.length + " ports, lookup=" + lookup.name() + "]";
    }
}
