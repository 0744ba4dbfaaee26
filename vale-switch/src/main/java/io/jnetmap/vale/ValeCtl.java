package io.jnetmap.vale;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.NetmapException;
import io.jnetmap.core.Port;
import io.jnetmap.core.PortName;
import io.jnetmap.core.RegionLayout;
import io.jnetmap.sys.Linux;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * What {@code vale-ctl} does, as an API. In the process hosting the switch the operations act
 * directly; from any other process {@link #list()} reads the switches' counters files and
 * {@link #remote} asks the hosting process to act through the file's mailbox ({@link ControlMailbox}).
 *
 * <p>Port arguments follow netmap's vale-ctl: {@code valeS:IF} names interface IF (opened as
 * {@code netmap:IF}); jnetmap adds {@code valeS:NAME=SPEC} to attach any port by its name (a pipe end,
 * a host-stack port) under switch-port name NAME.
 */
public final class ValeCtl {
    private ValeCtl() {
    }

    /** A switch as listed from its counters file. */
    public record SwitchInfo(String name, int pid, boolean live, long heartbeatAgeMs, String lookup, Path file,
                             List<PortInfo> ports) {
    }

    /** A port of a listed switch: identity and counters ({@link StatsLayout#TX_NAMES}, {@link StatsLayout#RX_NAMES}). */
    public record PortInfo(int index, String name, int kind, int flags, int rings, String backend, long[] tx, long[] rx) {
        public long tx(int counter) {
            return tx[counter];
        }

        public long rx(int counter) {
            return rx[counter];
        }

        public long drops() {
            long d = 0;
            for (int c = StatsLayout.DROP_FULL; c <= StatsLayout.DROP_NOT_IP; c++) {
                d += tx[c];
            }
            return d;
        }
    }

    // ----------------------------------------------------------------------------------------------
    // in the hosting process

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
        synchronized (Vale.CONFIG) {
            ValeSwitch sw = Vale.getOrCreate(t.switchName);
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
                if (sw.portList().isEmpty() && !sw.isPersistent()) {
                    sw.close();
                }
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

    /** {@code vale-ctl -d valeS:P}: detaches an attached port, or removes a persistent VALE port. */
    public static void detach(String arg) {
        Target t = target(arg);
        synchronized (Vale.CONFIG) {
            ValeSwitch sw = Vale.get(t.switchName).orElseThrow(() -> new NetmapException("no switch " + t.switchName
                    + " in this process"));
            sw.detach(t.portName);
        }
    }

    /**
     * {@code vale-ctl -n valeS:P[@conf:...]}: creates VALE port P on switch S that stays when nobody
     * has it open; programs of this process open it as {@code valeS:P}.
     */
    public static SwitchPort newPersistent(String spec) {
        PortName pn = Vale.parseValeName(spec);
        synchronized (Vale.CONFIG) {
            ValeSwitch sw = Vale.getOrCreate(pn.switchName());
            if (sw.port(pn.base()).isPresent()) {
                throw new NetmapException.PortBusy("switch " + sw.name() + " already has a port \"" + pn.base() + "\"", null);
            }
            try {
                VirtualPort vp = VirtualPort.create(sw, pn);
                vp.makePersistent();
                return vp;
            } catch (RuntimeException e) {
                if (sw.portList().isEmpty() && !sw.isPersistent()) {
                    sw.close();
                }
                throw e;
            }
        }
    }

    /** {@code vale-ctl -r valeS:P}: removes persistent port P (it must not be open). */
    public static void remove(String arg) {
        PortName pn = Vale.parseValeName(arg);
        synchronized (Vale.CONFIG) {
            ValeSwitch sw = Vale.get(pn.switchName()).orElseThrow(() -> new NetmapException("no switch "
                    + pn.switchName() + " in this process"));
            SwitchPort p = sw.port(pn.base()).orElseThrow(() -> new NetmapException("no port " + arg));
            if (!(p instanceof VirtualPort vp) || !vp.isPersistent()) {
                throw new NetmapException("port " + arg + " is not a persistent VALE port (expected: one made with -n)");
            }
            vp.destroyPersistent();
        }
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
        Vale.checkName(sw);
        String rest = arg.substring(colon + 1);
        int eq = rest.indexOf('=');
        String name = eq < 0 ? rest : rest.substring(0, eq);
        if (name.isEmpty()) {
            throw new IllegalArgumentException("port=" + arg + " (expected: a port name after '" + sw + ":')");
        }
        return new Target(sw, name, eq < 0 ? "netmap:" + rest : rest.substring(eq + 1));
    }

    // ----------------------------------------------------------------------------------------------
    // from any process

    /** The switches of every live process on this machine (counters files of dead processes are removed). */
    public static List<SwitchInfo> list() {
        List<SwitchInfo> out = new ArrayList<>();
        List<Path> files;
        try (var s = Files.list(SwitchStats.directory())) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".stats")).sorted().toList();
        } catch (NoSuchFileException e) {
            return out;
        } catch (IOException e) {
            throw new NetmapException("cannot list " + SwitchStats.directory() + ": " + e, e);
        }
        for (Path f : files) {
            read(f).ifPresent(out::add);
        }
        return out;
    }

    /** Reads one counters file; empty if it is gone, not a counters file, or its process is dead (then it is removed). */
    static Optional<SwitchInfo> read(Path f) {
        try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            if (ch.size() < StatsLayout.FILE_SIZE) {
                return Optional.empty();
            }
            MemorySegment m = ch.map(FileChannel.MapMode.READ_ONLY, 0, StatsLayout.FILE_SIZE, arena);
            if (m.get(JAVA_LONG, StatsLayout.MAGIC_OFFSET) != StatsLayout.MAGIC
                    || m.get(JAVA_INT, StatsLayout.VERSION_OFFSET) != StatsLayout.VERSION) {
                return Optional.empty();
            }
            int pid = m.get(JAVA_INT, StatsLayout.PID_OFFSET);
            int state = (int) SwitchStats.INT.getAcquire(m, StatsLayout.STATE_OFFSET);
            boolean alive = Linux.processAlive(pid);
            if (!alive || state != StatsLayout.STATE_LIVE) {
                if (!alive) {
                    Files.deleteIfExists(f);
                }
                return Optional.empty();
            }
            long beat = (long) SwitchStats.LONG.getAcquire(m, StatsLayout.HEARTBEAT_MS_OFFSET);
            List<PortInfo> ports = new ArrayList<>();
            for (int i = 0; i < Lookup.MAX_PORTS; i++) {
                long p = StatsLayout.portOffset(i);
                if ((int) SwitchStats.INT.getAcquire(m, p + StatsLayout.P_STATE_OFFSET) == 0) {
                    continue;
                }
                long[] tx = new long[StatsLayout.TX_COUNTERS];
                long[] rx = new long[StatsLayout.RX_COUNTERS];
                for (int c = 0; c < tx.length; c++) {
                    tx[c] = (long) SwitchStats.LONG.getOpaque(m, StatsLayout.txOffset(i, c));
                }
                for (int c = 0; c < rx.length; c++) {
                    rx[c] = (long) SwitchStats.LONG.getOpaque(m, StatsLayout.rxOffset(i, c));
                }
                ports.add(new PortInfo(i, RegionLayout.readText(m, p + StatsLayout.P_NAME_OFFSET, StatsLayout.P_NAME_LENGTH),
                        m.get(JAVA_INT, p + StatsLayout.P_KIND_OFFSET), m.get(JAVA_INT, p + StatsLayout.P_FLAGS_OFFSET),
                        m.get(JAVA_INT, p + StatsLayout.P_RINGS_OFFSET),
                        RegionLayout.readText(m, p + StatsLayout.P_BACKEND_OFFSET, StatsLayout.P_BACKEND_LENGTH), tx, rx));
            }
            return Optional.of(new SwitchInfo(RegionLayout.readText(m, StatsLayout.SWITCH_OFFSET, StatsLayout.SWITCH_LENGTH), pid, true,
                    System.currentTimeMillis() - beat, RegionLayout.readText(m, StatsLayout.LOOKUP_OFFSET, StatsLayout.LOOKUP_LENGTH), f,
                    ports));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new NetmapException("cannot read " + f + ": " + e, e);
        }
    }

    /** The counters files of switch {@code name} hosted by live processes. */
    public static List<SwitchInfo> find(String name) {
        return list().stream().filter(s -> s.name().equals(name)).toList();
    }

    /**
     * Asks the process hosting switch {@code switchName} to run a command ({@link StatsLayout#CMD_ATTACH}
     * ...) with argument {@code arg} (as given to vale-ctl), and waits for its answer. Returns the
     * host's reply; throws {@link NetmapException} with the host's message if it failed, or if no live
     * process hosts the switch, or it did not answer within {@code timeout}.
     */
    public static String remote(String switchName, int cmd, String arg, Duration timeout) {
        List<SwitchInfo> hosts = find(switchName);
        if (hosts.isEmpty()) {
            throw new NetmapException("no process hosts switch " + switchName + " (a switch lives in the process that"
                    + " created it: run the program that uses it, or `bin/jnetmap vale-ctl --host " + switchName + "`)");
        }
        if (hosts.size() > 1) {
            throw new NetmapException("switch " + switchName + " exists in several processes (pids "
                    + hosts.stream().map(h -> String.valueOf(h.pid())).toList() + "): each is a separate switch");
        }
        return ControlMailbox.call(hosts.get(0).file(), cmd, arg, timeout);
    }
}
