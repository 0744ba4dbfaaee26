package io.jnetmap.vale;

import io.jnetmap.core.MonitorPort;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.NetmapException;
import io.jnetmap.core.Port;
import io.jnetmap.core.PortName;
import io.jnetmap.core.Ring;
import io.jnetmap.core.Slot;
import io.jnetmap.poll.Pollable;
import io.jnetmap.sys.Linux;
import io.jnetmap.vale.ctl.Command;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * A copy monitor of a switch port served to another process ({@link Command#ATTACH_MONITOR}, sent by a
 * {@link io.jnetmap.vale.ctl.RemotePort#openMonitor remote monitor}): this process, the switch's host,
 * opens the monitor ({@link #openLocal}) and one of its threads copies what the monitor receives into the
 * requester's pipe end. Both sides are lossy, never blocking: the monitor drops when its ring is full
 * (the watched port never waits for it) and the relay takes from it only what the pipe has room for.
 * Closed when the requester closes it ({@link Command#DETACH_MONITOR}), dies (the housekeeper reaps it),
 * or the switch closes.
 */
final class MonitorRelay extends RelayThread {
    /** Relays of this process. Guarded by ValeSwitches.CONFIG. */
    private static final List<MonitorRelay> RELAYS = new ArrayList<>();

    /** The switch whose port is watched; null for a pipe end or NIC port published by {@link PortMonitors}. */
    private final ValeSwitch sw;
    /** {@code valeS:P/FLAGS=PIPE} as requested: what DETACH_MONITOR names. */
    final String binding;
    private final MonitorPort monitor;
    private final Port end;

    private MonitorRelay(ValeSwitch sw, String binding, int owner, MonitorPort monitor, Port end) {
        super("vale-monitor-" + monitor.name() + "-" + owner, owner, monitor, Pollable.IN, end, Pollable.OUT);
        this.sw = sw;
        this.binding = binding;
        this.monitor = monitor;
        this.end = end;
    }

    /**
     * Opens monitor {@code name} ({@code valeS:P/r|t|rt}) of port P of {@code sw}, a switch of this
     * process: of the port itself if it is open here by name; of the switch's end of a port attached
     * for another process (mirrored: what P sends arrives on that end's RX rings); of an attached
     * NIC or host-stack port as it is. Under ValeSwitches.CONFIG.
     */
    static MonitorPort openLocal(ValeSwitch sw, PortName name) {
        String portName = name.base();
        SwitchPort p = sw.port(portName).orElseThrow(() -> new NetmapException("cannot open monitor \"" + name.text()
                + "\": switch " + sw.name() + " has no port " + portName + " (ports: "
                + sw.portList().stream().map(SwitchPort::name).toList() + ")"));
        if (p instanceof AttachedPort ap) {
            return MonitorPort.open(name, ap.port(), ap.owner > 0);
        }
        Port open = Netmap.findOpen(p.fullName());
        if (open == null) {
            throw new NetmapException("cannot open monitor \"" + name.text() + "\": VALE port " + p.fullName()
                    + " is not open in process " + ProcessHandle.current().pid() + ", the switch's host"
                    + " (a monitor watches an open of it: open " + p.fullName() + " there first)");
        }
        return MonitorPort.open(name, open);
    }

    /**
     * {@link Command#ATTACH_MONITOR} {@code valeS:P/FLAGS=PIPE} from process {@code client}: opens
     * the monitor and the host's end PIPE of the client's pipe, and starts relaying. Under ValeSwitches.CONFIG.
     */
    static String open(ValeSwitch sw, String arg, int client) {
        int eq = arg.indexOf('=');
        if (eq < 0) {
            throw new IllegalArgumentException("monitor=" + arg + " (expected: valeS:P/FLAGS=PIPE)");
        }
        PortName name = PortName.parse(arg.substring(0, eq));
        if (!name.kind().equals("monitor") || !name.monitored().startsWith(sw.name() + ":")) {
            throw new IllegalArgumentException("monitor=" + arg + " (expected: a monitor of a port of " + sw.name() + ")");
        }
        MonitorPort m = openLocal(sw, name);
        try {
            Port end = Netmap.open(PortName.parse(arg.substring(eq + 1)).withoutOptions());
            MonitorRelay r = new MonitorRelay(sw, arg, client, m, end);
            RELAYS.add(r);
            r.start();
            return "monitoring " + name.text() + " for process " + client + " through " + end.name();
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /**
     * Relays copy monitor {@code m} (of a pipe end or NIC port of this process, {@link PortMonitors})
     * into pipe end {@code end} for process {@code client}; {@code binding} names it in listings.
     */
    static MonitorRelay serve(MonitorPort m, Port end, int client, String binding) {
        synchronized (ValeSwitches.CONFIG) {
            MonitorRelay r = new MonitorRelay(null, binding, client, m, end);
            RELAYS.add(r);
            r.start();
            return r;
        }
    }

    /** Copies dropped by the monitor so far (the requester did not keep up). */
    long drops() {
        return monitor.drops();
    }

    /** Closes a relay opened by {@link #serve}: stops it, closes the monitor and the pipe end. */
    void closeServed() {
        synchronized (ValeSwitches.CONFIG) {
            if (RELAYS.contains(this)) {
                close();
            }
        }
    }

    /** {@link Command#DETACH_MONITOR}: closes the relay {@code arg} names. Under ValeSwitches.CONFIG. */
    static String close(ValeSwitch sw, String arg) {
        for (MonitorRelay r : List.copyOf(RELAYS)) {
            if (r.sw == sw && r.binding.equals(arg)) {
                long d = r.monitor.drops();
                r.close();
                return "stopped monitoring " + arg.substring(0, arg.indexOf('=')) + " (" + d + " copies dropped: the requester did not keep up)";
            }
        }
        return "nothing to undo for " + arg;
    }

    /** Closes the relays of {@code sw} whose requester died or whose relay failed (all with {@code all}). Under ValeSwitches.CONFIG. */
    static void reap(ValeSwitch sw, boolean all) {
        for (MonitorRelay r : List.copyOf(RELAYS)) {
            if (r.sw == sw && (all || r.failure() != null || !r.alive() || !Linux.processAlive(r.owner))) {
                r.close();
            }
        }
    }

    /** Relays of {@code sw} open now. Under ValeSwitches.CONFIG. */
    static int count(ValeSwitch sw) {
        return (int) RELAYS.stream().filter(r -> r.sw == sw).count();
    }

    private void close() {
        RELAYS.remove(this);
        boolean stopped = stop();
        try {
            monitor.close(); // the watched port no longer copies anything
        } finally {
            if (stopped) {
                end.close();
            }
        }
    }

    /** {@link System#nanoTime()} when an empty round first found the watched port closed; 0 before. */
    private long closedSeenAt;
    /** Copies still in the monitor at the last look after the close. */
    private long lastPending = Long.MAX_VALUE;

    /**
     * Ends the relay once the watched port closed and the monitor's last copies are in the pipe: the requester, told by
     * the pipe end this process then closes, sees them before the end. A requester that takes none for 2 s loses them.
     */
    @Override
    boolean idle() {
        if (!monitor.target().isClosed()) {
            return true;
        }
        long pending = 0;
        for (int i = 0; i < monitor.rxRings(); i++) {
            pending += monitor.rxRing(i).space();
        }
        long now = System.nanoTime();
        if (closedSeenAt == 0 || pending < lastPending) {
            closedSeenAt = now; // moving: wait on
            lastPending = pending;
        }
        return pending > 0 && now - closedSeenAt < 2_000_000_000L;
    }

    /** Copies to wait for while the pipe has room, room while it has none. */
    @Override
    int interest(int side) {
        boolean full = allFull(end);
        return side == 0 ? (full ? 0 : Pollable.IN) : (full ? Pollable.OUT : 0);
    }

    /**
     * Copies what the monitor holds into the pipe end's TX rings, whole packets, as much as fits; the
     * rest waits in the monitor's ring, and once that is full the monitor drops new copies (a capture
     * that cannot keep up loses packets, as with tcpdump; the watched port never waits). True if
     * anything moved.
     */
    @Override
    boolean relayOnce() {
        monitor.rxSync();
        boolean moved = false;
        int nd = end.txRings();
        for (int i = 0; i < monitor.rxRings(); i++) {
            Ring s = monitor.rxRing(i);
            Ring d = end.txRing(i % nd);
            int have = s.space();
            int room = d.space();
            int fits = Math.min(s.bufSize(), d.bufSize());
            int h = s.head();
            int j = d.head();
            while (have > 0) {
                int frags = 1; // the monitor publishes whole packets: a chain ends within what it has
                for (int x = h; (s.flags(x) & Slot.NS_MOREFRAG) != 0 && frags < have; x = s.nextSlot(x)) {
                    frags++;
                }
                if (frags > room) {
                    break;
                }
                for (int f = 0; f < frags; f++) {
                    int len = Math.min(s.len(h), fits);
                    MemorySegment.copy(s.memory(), s.bufOffset(h), d.memory(), d.bufOffset(j), len);
                    d.setSlot(j, len, s.flags(h) & (Slot.NS_MOREFRAG | Slot.NS_TXMON));
                    h = s.nextSlot(h);
                    j = d.nextSlot(j);
                }
                have -= frags;
                room -= frags;
                moved = true;
            }
            s.advanceTo(h);
            d.advanceTo(j);
        }
        if (moved || txPending(end)) {
            end.txSync();
        }
        return moved;
    }

    @Override
    public String toString() {
        return "MonitorRelay[" + binding + " for process " + owner + "]";
    }
}
