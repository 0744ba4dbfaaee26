package io.jnetmap.vale;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.NetmapException;
import io.jnetmap.core.Port;
import io.jnetmap.core.PortName;
import io.jnetmap.vale.ctl.Command;
import io.jnetmap.vale.ctl.ValeCtl;

import java.util.ArrayList;
import java.util.List;

/**
 * What {@code vale-ctl} does, run in the process hosting the switch: by {@code vale-ctl --host} and
 * programs directly, and by the housekeeping thread for requests other processes leave in the
 * switch's mailbox ({@link #execute}). The client side, for any process, is {@link ValeCtl}.
 *
 * <p>Port arguments follow netmap's vale-ctl: {@code valeS:IF} names interface IF (opened as
 * {@code netmap:IF}); jnetmap adds {@code valeS:NAME=SPEC} to attach any port by its name (a pipe end,
 * a host-stack port) under switch-port name NAME.
 */
public final class SwitchAdmin {
    private SwitchAdmin() {
    }

    /**
     * {@code vale-ctl -a valeS:IF} (or {@code -h} with {@code host}): opens the interface's port
     * ({@code netmap:IF}, or the SPEC of {@code valeS:NAME=SPEC}) and attaches it to switch S (created
     * if needed); with {@code host}, its host-stack rings ({@code netmap:IF^}) too, as port {@code IF^}.
     * The switch closes the ports when they are detached.
     */
    public static List<AttachedPort> attach(String arg, boolean host) {
        return attach(arg, host, 0);
    }

    /** As {@link #attach(String, boolean)}; {@code owner} > 0: detach when process {@code owner} dies. */
    static List<AttachedPort> attach(String arg, boolean host, int owner) {
        Target t = target(arg);
        synchronized (ValeSwitches.CONFIG) {
            ValeSwitch sw = ValeSwitches.getOrCreate(t.switchName);
            List<AttachedPort> out = new ArrayList<>();
            try {
                out.add(attachSpec(sw, t.portName, t.spec, owner));
                if (host) {
                    out.add(attachSpec(sw, t.portName + "^", t.spec + "^", owner));
                }
                return out;
            } catch (RuntimeException e) {
                for (AttachedPort p : out) {
                    sw.detach(p.name());
                }
                sw.closeIfUnused();
                throw e;
            }
        }
    }

    /** Opens {@code spec} and attaches it; its {@code @backpressure=} option is the attachment's. */
    private static AttachedPort attachSpec(ValeSwitch sw, String name, String spec, int owner) {
        PortName pn = PortName.parse(spec);
        boolean bp = VirtualPort.backPressureOption(pn, false);
        String open = spec;
        if (pn.option("backpressure") != null) {
            open = spec.replace("@backpressure=" + pn.option("backpressure"), "");
        }
        Port p = Netmap.open(open);
        try {
            AttachedPort ap = sw.attach(p, AttachOptions.defaults().withName(name).withCloseOnDetach(true)
                    .withBackPressure(bp));
            ap.owner = owner;
            return ap;
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
    }

    /**
     * {@code vale-ctl -d valeS:P}: detaches an attached port, or removes a VALE port (a persistent
     * one; refused while it is open). Returns what it did, as vale-ctl prints it.
     */
    public static String detach(String arg) {
        Target t = target(arg);
        synchronized (ValeSwitches.CONFIG) {
            ValeSwitch sw = existing(t.switchName);
            SwitchPort p = sw.port(t.portName).orElse(null);
            String what = p instanceof VirtualPort vp
                    ? (vp.isPersistent() ? "removed persistent port " : "removed port ") + p.fullName()
                    : p != null ? "detached " + p.fullName() + " (" + p.backend() + ")" : null;
            sw.detach(t.portName); // says which ports there are if P is none of them
            return what;
        }
    }

    /**
     * {@code vale-ctl -n valeS:P[@conf:...]}: creates VALE port P on switch S that stays when nobody
     * has it open (netmap's persistent port); any process opens it as {@code valeS:P}.
     */
    public static SwitchPort newPersistent(String spec) {
        PortName pn = ValeSwitches.parseValeName(spec);
        synchronized (ValeSwitches.CONFIG) {
            ValeSwitch sw = ValeSwitches.getOrCreate(pn.switchName());
            if (sw.port(pn.base()).isPresent()) {
                throw new NetmapException.PortBusy("switch " + sw.name() + " already has a port \"" + pn.base() + "\"", null);
            }
            try {
                VirtualPort vp = VirtualPort.create(sw, pn);
                vp.makePersistent();
                return vp;
            } catch (RuntimeException e) {
                sw.closeIfUnused();
                throw e;
            }
        }
    }

    /** {@code vale-ctl -r valeS:P}: removes persistent port P (it must not be open). */
    public static void remove(String arg) {
        PortName pn = ValeSwitches.parseValeName(arg);
        synchronized (ValeSwitches.CONFIG) {
            SwitchPort p = existing(pn.switchName()).port(pn.base())
                    .orElseThrow(() -> new NetmapException("no port " + arg));
            if (!(p instanceof VirtualPort vp) || !vp.isPersistent()) {
                throw new NetmapException("port " + arg + " is not a persistent VALE port (expected: one made with -n)");
            }
            vp.destroyPersistent();
        }
    }

    /**
     * Queues {@code task} for this process's housekeeping thread, which runs it under the switches'
     * configuration lock between its passes (the control queue, a JCTools MPSC queue: HTTP requests
     * and the requests of the switches' mailboxes go through it). Never blocks and takes no lock, so
     * an event loop may call it; the task reports its own outcome (an exception it throws is dropped).
     * Returns false if the request was refused: this process hosts no switch, or
     * {@value ControlRequests#CAPACITY} requests are already waiting.
     */
    public static boolean submit(Runnable task) {
        return Housekeeper.offer(task, false);
    }

    /**
     * As {@link #submit}, for a light request: one that only sets a field or swaps a reference
     * (back-pressure, routes, flushing a learning table). It may also run in a thread that forwards
     * packets of any switch of this process, between two of its batches, so it applies within one
     * batch time even while every CPU forwards; in order with every other request either way. So it
     * must be short, never block, never take {@code ValeSwitches.CONFIG} (or a lock held while
     * waiting for the queue), never open or map anything: attach, detach, creating ports or switches
     * and changing the lookup module go through {@link #submit}.
     */
    public static boolean submitLight(Runnable task) {
        return Housekeeper.offer(task, true);
    }

    /**
     * Runs a request another process left in switch {@code sw}'s mailbox; returns the reply (what
     * vale-ctl prints). {@code client} is the requesting process. Under ValeSwitches.CONFIG.
     */
    static String execute(ValeSwitch sw, Command cmd, String arg, int client) {
        if (!arg.startsWith(sw.name() + ":")) {
            throw new IllegalArgumentException("argument " + arg + " does not name a port of switch " + sw.name());
        }
        return switch (cmd) {
            case ATTACH, ATTACH_HOST -> attached(attach(arg, cmd == Command.ATTACH_HOST, 0));
            case ATTACH_REMOTE -> attachRemote(sw, arg, client);
            case DETACH -> detach(arg);
            case DETACH_REMOTE -> detachRemote(sw, arg);
            case ATTACH_MONITOR -> MonitorRelay.open(sw, arg, client);
            case DETACH_MONITOR -> MonitorRelay.close(sw, arg);
            case NEW_PORT -> "created persistent port " + newPersistent(arg).fullName();
            case REMOVE_PORT -> {
                remove(arg);
                yield "removed " + arg;
            }
        };
    }

    private static String attached(List<AttachedPort> ports) {
        return "attached " + String.join(", ", ports.stream().map(p -> p.fullName() + " (" + p.backend() + ")").toList());
    }

    /**
     * {@link Command#ATTACH_REMOTE} {@code valeS:P=PIPE[@backpressure=...]} from process {@code client}
     * (a {@link io.jnetmap.vale.ctl.RemotePort} being opened), netmap's semantics for opening a port by
     * name: if P is a VALE port of the switch (a persistent one, or one open here), the pipe end binds
     * to it ({@link RemoteBinding}; refused while another process has it bound: its relay thread owns
     * the port's rings, one thread per ring); if there is no port P, the pipe end joins as a new port P, which
     * goes away when the client closes it or dies. Under ValeSwitches.CONFIG.
     */
    private static String attachRemote(ValeSwitch sw, String arg, int client) {
        Target t = target(arg);
        SwitchPort p = sw.port(t.portName).orElse(null);
        if (p instanceof VirtualPort vp) {
            vp.closeRemoteOpens(true); // a dead opener's relay would still sync the rings
            if (!vp.remotes.isEmpty()) {
                throw new NetmapException.PortBusy("port " + vp.fullName() + " is open by process " + vp.remotes.get(0).owner
                        + " (expected: one process at a time on a port's rings; close it there first)", null);
            }
            RemoteBinding rb = RemoteBinding.open(vp, t.spec, client);
            return "bound " + vp.fullName() + " for process " + client + " through " + rb.pipe;
        }
        return attached(attach(arg, false, client));
    }

    /**
     * Undoes an {@link Command#ATTACH_REMOTE} {@code valeS:P=PIPE}: closes the binding of VALE port P
     * through that pipe end, or detaches P if it is still the port attached for it (it may have been
     * reaped and its name reused since). Under ValeSwitches.CONFIG.
     */
    private static String detachRemote(ValeSwitch sw, String arg) {
        Target t = target(arg);
        SwitchPort p = sw.port(t.portName).orElse(null);
        if (p instanceof VirtualPort vp) {
            for (RemoteBinding rb : List.copyOf(vp.remotes)) {
                if (rb.pipe.equals(t.spec)) {
                    rb.close(true); // the requester is closing: what it sent goes out first
                    return "unbound " + vp.fullName() + " from " + rb.pipe;
                }
            }
        } else if (p instanceof AttachedPort ap && ap.owner > 0 && ap.port().name().equals(t.spec)) {
            sw.detach(ap.name());
            return "detached " + ap.fullName();
        }
        return "nothing to undo for " + arg;
    }

    private static ValeSwitch existing(String switchName) {
        return ValeSwitches.get(switchName).orElseThrow(() -> new NetmapException("no switch " + switchName
                + " in this process"));
    }

    private record Target(String switchName, String portName, String spec) {
    }

    /** {@code valeS:IF} or {@code valeS:NAME=SPEC}. */
    private static Target target(String arg) {
        int colon = arg.indexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("port=" + arg + " (expected: valeS:IF or valeS:NAME=SPEC)");
        }
        String sw = arg.substring(0, colon);
        ValeSwitches.checkName(sw);
        String rest = arg.substring(colon + 1);
        int eq = rest.indexOf('=');
        String name = eq < 0 ? rest : rest.substring(0, eq);
        if (name.isEmpty()) {
            throw new IllegalArgumentException("port=" + arg + " (expected: a port name after '" + sw + ":')");
        }
        return new Target(sw, name, eq < 0 ? "netmap:" + rest : rest.substring(eq + 1));
    }
}
