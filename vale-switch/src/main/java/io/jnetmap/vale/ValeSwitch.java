package io.jnetmap.vale;

import io.jnetmap.core.NetmapException;
import io.jnetmap.core.Port;
import io.jnetmap.vale.ctl.SwitchFileLayout;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * A VALE-style software switch: up to {@link #MAX_PORTS} ports, a {@link LookupModule} deciding where
 * each packet goes (a learning bridge by default, see {@link ValeSwitches}), forwarding done by the
 * senders themselves (no switch thread; see {@link Forwarder}), counters readable from other processes
 * ({@link SwitchFileLayout}).
 *
 * <p>Switches are created on demand by opening a port ({@code Netmap.open("vale0:a")}; such a switch
 * goes away with its last port) or explicitly with {@link ValeSwitches#create} (it stays until
 * {@link #close()}: {@link #isExplicit()}). Ports join through {@code Netmap.open("valeS:P")} (VALE ports) or
 * {@link #attach(Port, AttachOptions)} (any port: NIC, host stack, pipe end), and leave when closed or
 * {@linkplain #detach detached}.
 *
 * <p>Configuration (ports joining and leaving, the lookup module) is serialised by one lock per
 * process ({@link ValeSwitches}); forwarding never takes it. A port leaves in two steps: it is removed from the
 * published port table, then the switch waits until every forwarder that may still have seen it has
 * finished its batch (each forwarder's sequence number is odd during a batch), so its memory is never
 * released under a sender's copy.
 */
public final class ValeSwitch implements AutoCloseable {
    /** Ports per switch (netmap's NM_BDG_MAXPORTS): indices 0 .. MAX_PORTS-1. */
    public static final int MAX_PORTS = SwitchFileLayout.MAX_PORTS;

    private final String name;
    private final boolean explicit;
    private final SwitchStats stats;
    /** What forwarders read, once per batch; replaced (volatile store) on every configuration change. */
    private volatile SwitchView view;
    /** Guarded by ValeSwitches.CONFIG. */
    private boolean closed;

    ValeSwitch(String name, LookupModule lookup, boolean explicit) {
        this.name = name;
        this.explicit = explicit;
        this.stats = SwitchStats.create(name, lookup.name());
        this.view = SwitchView.empty(lookup, stats);
    }

    // ----------------------------------------------------------------------------------------------
    // forwarding side (no lock)

    /** The switch as forwarders see it now (one volatile load). */
    SwitchView view() {
        return view;
    }

    /** Where a forwarder of this switch reads its view, once per batch. */
    Supplier<SwitchView> views() {
        return this::view;
    }

    /** The lookup module. */
    public LookupModule lookup() {
        return view.lookup;
    }

    SwitchStats stats() {
        return stats;
    }

    /** A receiver made room in a ring a back-pressured sender found full: wake those senders. */
    void wakeBackPressured() {
        for (SwitchPort p : view.list) {
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

    /**
     * True if made by {@link ValeSwitches#create} (it stays without ports until closed), false if made
     * on demand by opening a port (it goes away with its last port). Not to be confused with a
     * persistent <em>port</em> ({@code vale-ctl -n}), which stays without opens.
     */
    public boolean isExplicit() {
        return explicit;
    }

    /** The ports, in index order. */
    public List<SwitchPort> portList() {
        return List.of(view.list);
    }

    /** The port called {@code portName} ({@code a} for {@code vale0:a}), if any. */
    public Optional<SwitchPort> port(String portName) {
        for (SwitchPort p : view.list) {
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
     * module learns the current ports through {@link LookupModule#portAttached}.
     */
    public void setLookup(LookupModule module) {
        synchronized (ValeSwitches.CONFIG) {
            checkOpen();
            SwitchView old = view;
            for (SwitchPort p : old.list) {
                module.portAttached(p.index, p.name);
            }
            // volatile store -> batches starting from now use the new module
            view = old.withLookup(module);
            stats.setLookupName(module.name());
            quiesceAll(old);
        }
    }

    /** The clock modules age entries with (tests drive it by hand). */
    void setClock(LongSupplier clock) {
        synchronized (ValeSwitches.CONFIG) {
            view = view.withClock(clock);
        }
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
        synchronized (ValeSwitches.CONFIG) {
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
        synchronized (ValeSwitches.CONFIG) {
            SwitchPort p = port(portName).orElseThrow(() -> new NetmapException("no port \"" + portName
                    + "\" on switch " + name + " (ports: " + names() + ")"));
            p.detach();
        }
    }

    private String names() {
        return String.join(", ", Arrays.stream(view.list).map(SwitchPort::name).toList());
    }

    /** Adds {@code p} at the lowest free index. Under ValeSwitches.CONFIG. */
    void join(SwitchPort p) {
        checkOpen();
        if (port(p.name).isPresent()) {
            throw new NetmapException.PortBusy("switch " + name + " already has a port \"" + p.name + "\"", null);
        }
        SwitchView cur = view;
        int idx = -1;
        for (int i = 0; i < MAX_PORTS; i++) {
            if (cur.byIndex[i] == null) {
                idx = i;
                break;
            }
        }
        if (idx < 0) {
            throw new NetmapException("switch " + name + " is full: " + MAX_PORTS
                    + " ports (expected: fewer; close or detach one, or use another switch)");
        }
        if (p.dst == null || p.dst.length == 0) {
            throw new IllegalArgumentException("port " + p.name + " has no ring the switch could deliver to"
                    + " (expected: at least one TX ring)");
        }
        p.index = idx;
        for (DstRing d : p.dst) {
            d.portIndex = idx;
        }
        stats.openPort(idx, p.kind(), p.flags(), p.rings(), p.name, p.backend());
        cur.lookup.portAttached(idx, p.name);
        // volatile store -> forwarders starting from now see the port (and its rings' portIndex)
        view = cur.with(p);
    }

    /**
     * Removes {@code p} and waits until no forwarder can still be using it; an ephemeral switch left
     * without ports goes away. Under ValeSwitches.CONFIG.
     */
    void leave(SwitchPort p) {
        SwitchView old = view;
        if (p.index < 0 || old.byIndex[p.index] != p) {
            return;
        }
        // volatile store, then the forwarders' sequence numbers (volatile reads): a forwarder that
        // started after this store sees the new table; one that started before is waited for
        view = old.without(p);
        quiesceAll(old);
        view.lookup.portDetached(p.index);
        stats.closePort(p.index);
        p.index = -1;
        if (!explicit && view.list.length == 0) {
            destroy();
        }
    }

    /** Waits until no forwarder of a port of {@code v} runs a batch that started before now. */
    private static void quiesceAll(SwitchView v) {
        for (SwitchPort q : v.list) {
            for (Forwarder f : q.forwarders) {
                f.quiesce();
            }
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
        synchronized (ValeSwitches.CONFIG) {
            if (closed) {
                return;
            }
            MonitorRelay.reap(this, true); // before the ports they watch go
            for (SwitchPort p : view.list) {
                p.closeRemoteOpens(false); // other processes' opens: this process ends them, as their host
            }
            for (SwitchPort p : view.list) {
                if (p.openCount() > 0) {
                    throw new NetmapException.PortBusy("switch " + name + " still has open port " + p.fullName()
                            + " (expected: every port closed first)", null);
                }
            }
            List<SwitchPort> all = new ArrayList<>(List.of(view.list));
            for (SwitchPort p : all) {
                detach(p.name);
            }
            destroy();
        }
    }

    /** Destroys an ephemeral switch that has no port (left over by a failed open). Under ValeSwitches.CONFIG. */
    void closeIfUnused() {
        if (!explicit && view.list.length == 0) {
            destroy();
        }
    }

    private void destroy() {
        if (!closed) {
            closed = true;
            ValeSwitches.removed(this);
            stats.close();
        }
    }

    @Override
    public String toString() {
        return "ValeSwitch[" + name + ", " + view.list.length + " ports, lookup=" + view.lookup.name() + "]";
    }
}
