package io.jnetmap.vale.ctl;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.NetmapIf;
import io.jnetmap.core.Port;
import io.jnetmap.core.PortBrokenException;
import io.jnetmap.core.PortName;
import io.jnetmap.core.Region;
import io.jnetmap.core.Ring;
import io.jnetmap.poll.ForwardingPollable;
import io.jnetmap.poll.Pollable;
import io.jnetmap.poll.ProcessWatch;
import io.jnetmap.sys.EventFd;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A port of a switch hosted by another process. A switch lives in one process (the first to open one
 * of its ports, or {@code vale-ctl --host}); another process that opens {@code valeS:P} gets one end
 * of a cross-process pipe, and the hosting process, asked through the switch's mailbox, attaches the
 * other end as port P, with a polling thread. Packets cost one more zero-copy hop and a thread in the
 * host; the API is the pipe end's (rings, syncs, pollable), under the VALE name. Closing it asks the
 * host to detach P; if this process dies instead, the host notices and detaches P by itself.
 *
 * <p>Both sides watch each other's process with a pidfd ({@link ProcessWatch}): if the host dies, this
 * port is broken within a millisecond — its next sync throws {@link PortBrokenException} ({@code switch
 * vale0's host (pid N) died}) and its pollable reports {@code ERR}, waking a user asleep in a {@code
 * Poller}. Close it and open the name again: the next process to open a port of the switch (this one,
 * if no other) becomes its new host.
 *
 * <p>If P is a persistent port of the switch ({@code vale-ctl -n}), the host binds the pipe end to it
 * instead (one more open of P, relayed by a thread of the host) and unbinds it when this port closes.
 *
 * <p>A copy monitor {@code valeS:P/r}, {@code /t} or {@code /rt} of such a switch is a remote port too
 * ({@link #openMonitor}): the host opens the monitor of its port P and a thread of the host relays the
 * copies into this process's pipe end ({@link Command#ATTACH_MONITOR}). The relay drops what the pipe
 * has no room for, so a slow or stopped capture never holds P back.
 */
public final class RemotePort implements Port {
    private static final AtomicInteger PIPES = new AtomicInteger();
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final PortName name;
    private final Port end;
    private final Path hostFile;
    private final int hostPid;
    /** {@code valeS:P=PIPE}: what the host was asked to attach, and is asked to undo on close. */
    private final String binding;
    /** What undoes {@link #binding} at close. */
    private final Command detach;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Pollable pollable;
    /** Why this port is broken (its host died), or null. */
    private volatile String broken;
    /** Guarded by {@code this}: the pidfd watch of the host, cancelled at close. */
    private ProcessWatch.Watch hostWatch;
    /** For a monitor published by a process that is not a switch's host: what tells it to stop at close; else null. */
    private final Runnable undo;
    /**
     * For a monitor: the other end of its pipe, held by the relaying process, which closes it when the relay stops
     * because the monitored port closed (its state word becomes 0); null for other ports.
     */
    private final io.jnetmap.core.NetmapIf relayEnd;
    /** A monitor that ended: the sync that makes the relay's last copies visible is done; the next empty one throws. */
    private boolean lastSyncDone;

    private RemotePort(PortName name, Port end, Path hostFile, int hostPid, String binding, Command detach) {
        this(name, end, hostFile, hostPid, binding, detach, null);
    }

    private RemotePort(PortName name, Port end, Path hostFile, int hostPid, String binding, Command detach, Runnable undo) {
        this.undo = undo;
        this.name = name;
        this.detach = detach;
        this.end = end;
        this.hostFile = hostFile;
        this.hostPid = hostPid;
        this.binding = binding;
        this.pollable = new BrokenAwarePollable(end.pollable());
        String mine = end.netmapIf().name();
        int brace = mine.lastIndexOf('{');
        this.relayEnd = detach == Command.DETACH_MONITOR && brace >= 0
                ? end.region().findIf(mine.substring(0, brace) + "}" + mine.substring(brace + 1)).orElse(null) : null;
    }

    /**
     * Before a monitor's user sleeps: the relaying process closed its end of the pipe, so the relay stopped (the
     * monitored port closed, or its switch did), while that process lives on. The monitor ends as a broken port does,
     * after the copies already relayed ({@link #rxSync}). Two reads of shared memory.
     */
    private void checkRelayEnded() {
        io.jnetmap.core.NetmapIf r = relayEnd;
        if (r != null && broken == null && r.state() == 0 && !closed.get()) {
            synchronized (this) {
                if (broken == null) {
                    broken = "the monitored port " + name.monitored() + " closed" + (undo != null ? " (in process " + hostPid + ")" : "");
                }
            }
        }
    }

    /** On the watch thread: the host is gone. Under {@code this}, so the end's eventfd is still open. */
    private synchronized void hostDied() {
        if (closed.get()) {
            return;
        }
        broken = undo != null
                ? "process " + hostPid + ", which held " + name.monitored() + ", died; the monitor " + name.text() + " has ended"
                : relayEnd != null
                ? "the monitored port " + name.monitored() + " closed: switch " + name.switchName() + "'s host (pid " + hostPid + ") died"
                : "switch " + name.switchName() + "'s host (pid " + hostPid + ") died; close " + name.text()
                + " and open it again to reach the switch's next host";
        EventFd.adopt(end.pollable().fd()).signal(); // a user asleep in a Poller wakes up and sees ERR
    }

    /** Why this port stopped working (its switch's host died), or null while it works. */
    public String brokenReason() {
        return broken;
    }

    /** {@link System#nanoTime()} when the host's death was seen, 0 while it lives. */
    public synchronized long hostDiedAtNanos() {
        return hostWatch == null ? 0 : hostWatch.diedAtNanos();
    }

    private void checkNotBroken() {
        String why = broken;
        if (why != null) {
            throw new PortBrokenException(why);
        }
    }

    /** Opens {@code pn} as a port of the switch hosted by {@code host} (another process). */
    public static Port open(PortName pn, ValeCtl.SwitchInfo host) {
        String bp = pn.option("backpressure") != null ? "@backpressure=" + pn.option("backpressure") : "";
        return open(pn, host, Command.ATTACH_REMOTE, Command.DETACH_REMOTE, pn.switchName() + ":" + pn.base(), bp);
    }

    /**
     * Opens copy monitor {@code pn} ({@code valeS:P/r}, {@code /t}, {@code /rt}) of a port of the
     * switch hosted by {@code host} (another process). Its RX rings receive the copies (ring sizes from
     * {@code @conf:}); TX rings carry nothing.
     */
    public static Port openMonitor(PortName pn, ValeCtl.SwitchInfo host) {
        if (pn.hasFlag(PortName.ZCOPY_MONITOR)) {
            throw new io.jnetmap.core.NetmapException("cannot open \"" + pn + "\": a zero-copy monitor (/z) reaches"
                    + " only a port of its own process, and " + pn.monitored() + " lives in process " + host.pid()
                    + " (the switch's host); use a copy monitor /r, /t or /rt");
        }
        String flags = pn.withoutOptions().substring(pn.monitored().length());
        return open(pn, host, Command.ATTACH_MONITOR, Command.DETACH_MONITOR, pn.monitored() + flags, "");
    }

    /**
     * Monitor {@code pn} served by process {@code ownerPid} (not a switch's host) into pipe end {@code end}
     * of this process: broken when that process dies; {@code undo} tells it to stop at close.
     */
    public static Port ofPublished(PortName pn, Port end, int ownerPid, Runnable undo) {
        RemotePort p = new RemotePort(pn, end, null, ownerPid, pn.text(), Command.DETACH_MONITOR, undo);
        synchronized (p) {
            p.hostWatch = ProcessWatch.onExit(ownerPid, p::hostDied);
        }
        return p;
    }

    private static Port open(PortName pn, ValeCtl.SwitchInfo host, Command attach, Command detach, String what, String options) {
        String parent = "valep" + ProcessHandle.current().pid() + "x" + PIPES.incrementAndGet();
        StringBuilder conf = new StringBuilder("@conf:pipes=1");
        for (String k : new String[] {"rings", "tx-rings", "rx-rings", "slots", "tx-slots", "rx-slots", "extra-bufs"}) {
            Integer v = pn.conf().get(k);
            if (v != null) {
                conf.append(',').append(k).append('=').append(v);
            }
        }
        Port end = Netmap.open(parent + "{0" + conf);
        try {
            String binding = what + "=" + parent + "}0";
            ControlMailbox.call(host.file(), attach, binding + options, TIMEOUT);
            RemotePort p = new RemotePort(pn, end, host.file(), host.pid(), binding, detach);
            synchronized (p) {
                p.hostWatch = ProcessWatch.onExit(host.pid(), p::hostDied);
            }
            return p;
        } catch (RuntimeException e) {
            end.close();
            throw e;
        }
    }

    @Override
    public String name() {
        return name.text();
    }

    @Override
    public PortName portName() {
        return name;
    }

    /** {@code vale@PID/pipe}: a port of the switch in process PID, reached through a pipe. */
    @Override
    public String backend() {
        return (detach == Command.DETACH_MONITOR ? "monitor of " : "") + (undo != null ? "process " : "vale@") + hostPid + "/" + end.backend();
    }

    @Override
    public Region region() {
        return end.region();
    }

    @Override
    public NetmapIf netmapIf() {
        return end.netmapIf();
    }

    @Override
    public int txRings() {
        return end.txRings();
    }

    @Override
    public int rxRings() {
        return end.rxRings();
    }

    @Override
    public Ring txRing(int i) {
        return end.txRing(i);
    }

    @Override
    public Ring rxRing(int i) {
        return end.rxRing(i);
    }

    @Override
    public void txSync() {
        checkNotBroken();
        end.txSync();
    }

    /**
     * As the pipe end's; a monitor that ended (its relay stopped, or its relaying process died) first hands over what
     * the relay had sent: one last sync makes it visible, and the sync after it that finds the RX rings empty throws.
     */
    @Override
    public void rxSync() {
        String why = broken;
        if (why != null && relayEnd != null) {
            if (lastSyncDone && rxEmpty()) {
                throw new PortBrokenException(why);
            }
            lastSyncDone = true;
            end.rxSync(); // the relay is gone: what it published stays readable in the shared region
            return;
        }
        checkNotBroken();
        end.rxSync();
    }

    private boolean rxEmpty() {
        for (int i = 0; i < end.rxRings(); i++) {
            if (end.rxRing(i).space() != 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public Pollable pollable() {
        return pollable;
    }

    @Override
    public boolean isClosed() {
        return closed.get();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        synchronized (this) {
            if (hostWatch != null) {
                hostWatch.close();
            }
        }
        try {
            if (undo != null) {
                undo.run();
                return;
            }
            if (broken != null) {
                return; // no host to ask
            }
            ControlMailbox.call(hostFile, detach, binding, TIMEOUT);
        } catch (RuntimeException e) {
            // the host is gone, or already dropped the port: nothing left to undo there
        } finally {
            end.close();
            Netmap.forget(this);
        }
    }

    @Override
    public String toString() {
        return "RemotePort[" + name + " hosted by " + hostPid + " via " + end.name() + "]";
    }

    /** The pipe end's pollable, reporting {@link Pollable#ERR} once the host died. */
    private final class BrokenAwarePollable extends ForwardingPollable {
        BrokenAwarePollable(Pollable inner) {
            super(inner);
        }

        @Override
        public int pollNow(int interest) {
            checkRelayEnded();
            return broken != null ? ERR : inner.pollNow(interest);
        }

        @Override
        public int arm(int interest) {
            checkRelayEnded();
            return broken != null ? ERR : inner.arm(interest);
        }


        @Override
        public String toString() {
            return "pollable of " + name.text();
        }
    }
}
