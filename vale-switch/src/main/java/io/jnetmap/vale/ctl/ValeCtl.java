package io.jnetmap.vale.ctl;

import io.jnetmap.core.NetmapException;
import io.jnetmap.core.RegionLayout;
import io.jnetmap.sys.Linux;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
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
 * The client side of {@code vale-ctl}, usable from any process (the counters reader of AeronStat):
 * {@link #list()} reads the switches' counters files, {@link #remote} asks the process hosting a switch
 * to act through the file's mailbox ({@link ControlMailbox}). What the host itself runs is
 * {@code io.jnetmap.vale.SwitchAdmin}.
 *
 * <p>Port arguments follow netmap's vale-ctl: {@code valeS:IF} names interface IF (opened as
 * {@code netmap:IF}); jnetmap adds {@code valeS:NAME=SPEC} to attach any port by its name (a pipe end,
 * a host-stack port) under switch-port name NAME.
 */
public final class ValeCtl {
    private static final VarHandle LONG = JAVA_LONG.varHandle();
    private static final VarHandle INT = JAVA_INT.varHandle();

    private ValeCtl() {
    }

    /** A switch as listed from its counters file. */
    public record SwitchInfo(String name, int pid, boolean live, long heartbeatAgeMs, String lookup, Path file,
                             List<PortInfo> ports) {
    }

    /** A port of a listed switch: identity and counters ({@link SwitchFileLayout#TX_NAMES}, {@link SwitchFileLayout#RX_NAMES}). */
    public record PortInfo(int index, String name, int kind, int flags, int rings, String backend, long[] tx, long[] rx) {
        public long tx(int counter) {
            return tx[counter];
        }

        public long rx(int counter) {
            return rx[counter];
        }

        public long drops() {
            long d = 0;
            for (int c = SwitchFileLayout.DROP_FULL; c <= SwitchFileLayout.DROP_NOT_IP; c++) {
                d += tx[c];
            }
            return d;
        }
    }

    // ----------------------------------------------------------------------------------------------
    // from any process

    /** The switches of every live process on this machine (counters files of dead processes are removed). */
    public static List<SwitchInfo> list() {
        List<SwitchInfo> out = new ArrayList<>();
        List<Path> files;
        try (var s = Files.list(SwitchFileLayout.directory())) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".stats")).sorted().toList();
        } catch (NoSuchFileException e) {
            return out;
        } catch (IOException e) {
            throw new NetmapException("cannot list " + SwitchFileLayout.directory() + ": " + e, e);
        }
        for (Path f : files) {
            read(f).ifPresent(out::add);
        }
        return out;
    }

    /** Reads one counters file; empty if it is gone, not a counters file, or its process is dead (then it is removed). */
    static Optional<SwitchInfo> read(Path f) {
        try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            if (ch.size() < SwitchFileLayout.FILE_SIZE) {
                return Optional.empty();
            }
            MemorySegment m = ch.map(FileChannel.MapMode.READ_ONLY, 0, SwitchFileLayout.FILE_SIZE, arena);
            if (m.get(JAVA_LONG, SwitchFileLayout.MAGIC_OFFSET) != SwitchFileLayout.MAGIC
                    || m.get(JAVA_INT, SwitchFileLayout.VERSION_OFFSET) != SwitchFileLayout.VERSION) {
                return Optional.empty();
            }
            int pid = m.get(JAVA_INT, SwitchFileLayout.PID_OFFSET);
            int state = (int) INT.getAcquire(m, SwitchFileLayout.STATE_OFFSET);
            boolean alive = Linux.processAlive(pid);
            if (!alive || state != SwitchFileLayout.STATE_LIVE) {
                if (!alive) {
                    Files.deleteIfExists(f);
                }
                return Optional.empty();
            }
            long beat = (long) LONG.getAcquire(m, SwitchFileLayout.HEARTBEAT_MS_OFFSET);
            List<PortInfo> ports = new ArrayList<>();
            for (int i = 0; i < SwitchFileLayout.MAX_PORTS; i++) {
                long p = SwitchFileLayout.portOffset(i);
                if ((int) INT.getAcquire(m, p + SwitchFileLayout.P_STATE_OFFSET) == 0) {
                    continue;
                }
                long[] tx = new long[SwitchFileLayout.TX_COUNTERS];
                long[] rx = new long[SwitchFileLayout.RX_COUNTERS];
                for (int c = 0; c < tx.length; c++) {
                    tx[c] = (long) LONG.getOpaque(m, SwitchFileLayout.txOffset(i, c));
                }
                for (int c = 0; c < rx.length; c++) {
                    rx[c] = (long) LONG.getOpaque(m, SwitchFileLayout.rxOffset(i, c));
                }
                ports.add(new PortInfo(i, RegionLayout.readText(m, p + SwitchFileLayout.P_NAME_OFFSET, SwitchFileLayout.P_NAME_LENGTH),
                        m.get(JAVA_INT, p + SwitchFileLayout.P_KIND_OFFSET), m.get(JAVA_INT, p + SwitchFileLayout.P_FLAGS_OFFSET),
                        m.get(JAVA_INT, p + SwitchFileLayout.P_RINGS_OFFSET),
                        RegionLayout.readText(m, p + SwitchFileLayout.P_BACKEND_OFFSET, SwitchFileLayout.P_BACKEND_LENGTH), tx, rx));
            }
            return Optional.of(new SwitchInfo(RegionLayout.readText(m, SwitchFileLayout.SWITCH_OFFSET, SwitchFileLayout.SWITCH_LENGTH), pid, true,
                    System.currentTimeMillis() - beat, RegionLayout.readText(m, SwitchFileLayout.LOOKUP_OFFSET, SwitchFileLayout.LOOKUP_LENGTH), f,
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
     * Asks the process hosting switch {@code switchName} to run command {@code cmd} with argument {@code arg} (as given to vale-ctl), and waits for its answer. Returns the
     * host's reply; throws {@link NetmapException} with the host's message if it failed, or if no live
     * process hosts the switch, or it did not answer within {@code timeout}.
     */
    public static String remote(String switchName, Command cmd, String arg, Duration timeout) {
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
