package io.jnetmap.vale;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.PortName;
import io.jnetmap.core.Ring;
import io.jnetmap.poll.Pollable;
import io.jnetmap.sys.Linux;
import io.jnetmap.vale.ctl.Command;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * An open of a VALE port of this process by another process: what a {@link io.jnetmap.vale.ctl.RemotePort}
 * gets when the port it names already exists here as a VALE port (a persistent one made by
 * {@code vale-ctl -n}, or one this process has open), as in netmap, where any process opening an
 * existing port binds to it. The requester's pipe end cannot be the port's rings (they live in this
 * process's private region, and the switch's forwarding runs in whoever syncs them), so a thread of
 * this process binds the port ({@link #binding}, one more open of it) and relays between its rings and
 * the pipe end: what arrives from the requester goes out through the port's TX rings into the switch,
 * what the switch delivers to the port goes back through the pipe. The relay copies (the port and the
 * pipe are in different regions) and never drops: when one side is full it waits, so back-pressure
 * on the port ({@code @backpressure=on}) holds all the way to the requester.
 *
 * <p>Made and closed under ValeSwitches.CONFIG ({@link Command#ATTACH_REMOTE},
 * {@link Command#DETACH_REMOTE}); closed by the housekeeper when the requester dies.
 */
final class RemoteBinding extends RelayThread {
    /** Longest a closing requester waits for what it sent to go out. */
    private static final long DRAIN_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final VirtualPort vp;
    /** The host's end of the requester's pipe (its name without options). */
    final String pipe;
    private final Port binding;
    private final Port end;
    /** The requester is closing: the relay thread says when what it sent has gone out ({@link #drained}). */
    private volatile boolean drainRequested;
    private volatile boolean drained;

    private RemoteBinding(VirtualPort vp, String pipe, int owner, Port binding, Port end) {
        super("vale-remote-" + vp.fullName() + "-" + owner, owner, binding, Pollable.IN, end, Pollable.IN);
        this.vp = vp;
        this.pipe = pipe;
        this.binding = binding;
        this.end = end;
    }

    /**
     * Binds VALE port {@code vp} for process {@code owner} through pipe end {@code spec} ({@code PIPE}
     * or {@code PIPE@backpressure=on|off}: the option is the open's, as in {@code valeS:P@backpressure=on}).
     * Under ValeSwitches.CONFIG.
     */
    static RemoteBinding open(VirtualPort vp, String spec, int owner) {
        PortName pn = PortName.parse(spec);
        String bp = pn.option("backpressure");
        String pipe = pn.withoutOptions();
        Port end = Netmap.open(pipe);
        try {
            Port binding = Netmap.open(vp.fullName() + (bp != null ? "@backpressure=" + bp : ""));
            RemoteBinding rb = new RemoteBinding(vp, pipe, owner, binding, end);
            vp.remotes.add(rb);
            rb.start();
            return rb;
        } catch (RuntimeException e) {
            end.close();
            throw e;
        }
    }

    /** Whether the requester died or broke the pipe's rules: then the housekeeper closes this. */
    boolean orphaned() {
        return failure() != null || !Linux.processAlive(owner);
    }

    /**
     * Stops the relay, closes the open of the port and the pipe end. Under ValeSwitches.CONFIG.
     *
     * @param drain first let the relay finish what the requester sent (it is closing: it sent it all,
     *              and the pipe already counts it as taken): packets the port's back-pressure holds go
     *              out as the destinations make room, for at most {@link #DRAIN_NANOS}
     */
    void close(boolean drain) {
        if (!vp.remotes.contains(this)) {
            return;
        }
        if (drain) {
            drainRequested = true;
            wake();
            long deadline = System.nanoTime() + DRAIN_NANOS;
            while (!drained && failure() == null && alive() && System.nanoTime() - deadline < 0) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
            }
        }
        vp.remotes.remove(this);
        if (!stop()) {
            throw new IllegalStateException("relay thread of " + vp.fullName() + " for process " + owner
                    + " did not stop within 10 s");
        }
        try {
            binding.close(); // the port itself stays if it is persistent
        } finally {
            end.close();
        }
    }

    @Override
    boolean idle() {
        if (drainRequested && nothingLeft()) {
            drained = true;
        }
        return true;
    }

    /** Waits for packets only where they could move now, for room where a side is full. */
    @Override
    int interest(int side) {
        boolean fullB = anyFull(binding);
        boolean fullE = anyFull(end);
        return side == 0 ? (fullE ? 0 : Pollable.IN) | (fullB ? Pollable.OUT : 0)
                : (fullB ? 0 : Pollable.IN) | (fullE ? Pollable.OUT : 0);
    }

    /** One round each way; true if anything moved. */
    @Override
    boolean relayOnce() {
        end.rxSync();
        binding.rxSync();
        boolean up = move(end, binding); // from the requester into the switch
        boolean down = move(binding, end); // from the switch to the requester
        if (up || txPending(binding)) {
            binding.txSync(); // forwards through the switch (or retries what back-pressure holds)
        }
        if (down || txPending(end)) {
            end.txSync();
        }
        return up || down;
    }

    /** Copies what {@code src}'s RX rings hold into {@code dst}'s TX rings, as much as fits. */
    private static boolean move(Port src, Port dst) {
        boolean moved = false;
        int nd = dst.txRings();
        for (int i = 0; i < src.rxRings(); i++) {
            Ring s = src.rxRing(i);
            Ring d = dst.txRing(i % nd);
            int n = Math.min(s.space(), d.space());
            if (n > 0) {
                Ring.forward(s, d, n, false);
                moved = true;
            }
        }
        return moved;
    }

    /**
     * In the relay thread, after a round that moved nothing: whether nothing the requester sent waits
     * here any more (its pipe end's RX rings are empty after an rxsync, and the port's TX rings hold
     * nothing back).
     */
    private boolean nothingLeft() {
        for (int i = 0; i < end.rxRings(); i++) {
            if (!end.rxRing(i).isEmpty()) {
                return false;
            }
        }
        return !txPending(binding);
    }

    @Override
    public String toString() {
        return "RemoteBinding[" + vp.fullName() + " for process " + owner + " via " + pipe + "]";
    }
}
