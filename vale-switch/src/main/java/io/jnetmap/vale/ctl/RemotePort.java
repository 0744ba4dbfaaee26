package io.jnetmap.vale.ctl;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.NetmapIf;
import io.jnetmap.core.Port;
import io.jnetmap.core.PortName;
import io.jnetmap.core.Region;
import io.jnetmap.core.Ring;
import io.jnetmap.poll.Pollable;

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
 * <p>If P is a persistent port of the switch ({@code vale-ctl -n}), the host binds the pipe end to it
 * instead (one more open of P, relayed by a thread of the host) and unbinds it when this port closes.
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
    private final AtomicBoolean closed = new AtomicBoolean();

    private RemotePort(PortName name, Port end, Path hostFile, int hostPid, String binding) {
        this.name = name;
        this.end = end;
        this.hostFile = hostFile;
        this.hostPid = hostPid;
        this.binding = binding;
    }

    /** Opens {@code pn} as a port of the switch hosted by {@code host} (another process). */
    public static Port open(PortName pn, ValeCtl.SwitchInfo host) {
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
            String bp = pn.option("backpressure") != null ? "@backpressure=" + pn.option("backpressure") : "";
            String binding = pn.switchName() + ":" + pn.base() + "=" + parent + "}0";
            ControlMailbox.call(host.file(), Command.ATTACH_REMOTE, binding + bp, TIMEOUT);
            return new RemotePort(pn, end, host.file(), host.pid(), binding);
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
        return "vale@" + hostPid + "/" + end.backend();
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
        end.txSync();
    }

    @Override
    public void rxSync() {
        end.rxSync();
    }

    @Override
    public Pollable pollable() {
        return end.pollable();
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
        try {
            ControlMailbox.call(hostFile, Command.DETACH_REMOTE, binding, TIMEOUT);
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
}
