package io.jnetmap.examples;

import io.jnetmap.core.NetmapException;
import io.jnetmap.vale.LookupModule;
import io.jnetmap.vale.Packet;
import io.jnetmap.vale.SwitchAdmin;
import io.jnetmap.vale.ValeSwitch;
import io.jnetmap.vale.ValeSwitches;
import io.jnetmap.vale.ctl.Command;
import io.jnetmap.vale.ctl.SwitchFileLayout;
import io.jnetmap.vale.ctl.ValeCtl;
import io.jnetmap.vale.lookup.FlowCache;
import io.jnetmap.vale.lookup.L3Router;
import io.jnetmap.vale.lookup.LearningBridge;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;

/**
 * {@code bin/jnetmap vale-ctl}: netmap's vale-ctl for jnetmap's switches.
 *
 * <p>A switch lives in the process that created it (there is no kernel to hold it). From any other
 * process this tool lists every switch and its counters (read-only, from the switches' counters files)
 * and sends attach/detach/create/remove requests to the hosting process through the file's mailbox;
 * {@code --host valeS} makes this process the host of switch S until it is interrupted.
 */
public final class ValeCtlTool {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private ValeCtlTool() {
    }

    private static void usage() {
        System.out.println("""
                usage: bin/jnetmap vale-ctl [-w SECONDS]           list switches of every process, ports, counters
                       bin/jnetmap vale-ctl -l valeS:P              one port: switch, index, counters
                       bin/jnetmap vale-ctl -a valeS:IF             attach interface IF (netmap:IF) to switch S
                       bin/jnetmap vale-ctl -h valeS:IF             attach IF and its host stack (netmap:IF^)
                       bin/jnetmap vale-ctl -a valeS:NAME=PORTSPEC  attach any port (pipe end, host port ...) as NAME
                       bin/jnetmap vale-ctl -d valeS:P              detach an attached port, or remove a persistent one
                       bin/jnetmap vale-ctl -n valeS:P [-C tx_slots,rx_slots,tx_rings,rx_rings]
                                                                    create a persistent VALE port
                       bin/jnetmap vale-ctl -r valeS:P              remove a persistent VALE port
                       bin/jnetmap vale-ctl --host valeS [-L l2|l3|l2+fc|l3+fc] [--route CIDR,PORT,MAC]...
                                        [-a|-h|-n ...]...           host switch S in this process until interrupted,
                                                                    answering the requests above from other processes

                A switch lives in the process that created it. -a/-h/-d/-n/-r are sent to that process through the
                mailbox in the switch's counters file (.vale/ under $JNETMAP_DIR or /dev/shm/jnetmap)."""
        );
    }

    public static void main(String[] args) {
        try {
            System.exit(run(args));
        } catch (NetmapException | IllegalArgumentException e) {
            System.err.println("vale-ctl: " + e.getMessage());
            System.exit(1);
        }
    }

    static int run(String[] args) {
        String host = null;
        String lookup = "l2";
        List<String> routes = new ArrayList<>();
        List<String[]> actions = new ArrayList<>();
        String conf = null;
        double watch = 0;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--help" -> {
                    usage();
                    return 0;
                }
                case "--host" -> host = value(args, ++i, a);
                case "-L" -> lookup = value(args, ++i, a);
                case "--route" -> routes.add(value(args, ++i, a));
                case "-w" -> watch = Double.parseDouble(value(args, ++i, a));
                case "-C" -> conf = value(args, ++i, a);
                case "-l", "-a", "-h", "-d", "-n", "-r" -> actions.add(new String[] {a, value(args, ++i, a)});
                default -> {
                    System.err.println("vale-ctl: unknown option " + a + " (bin/jnetmap vale-ctl --help)");
                    return 2;
                }
            }
        }
        if (host != null) {
            return host(host, lookup, routes, actions, conf);
        }
        if (actions.isEmpty()) {
            do {
                list(ValeCtl.list(), null);
                if (watch > 0) {
                    sleep((long) (watch * 1000));
                    System.out.println();
                }
            } while (watch > 0);
            return 0;
        }
        for (String[] act : actions) {
            if (act[0].equals("-l")) {
                show(act[1]);
                continue;
            }
            String sw = switchOf(act[1]);
            System.out.println(ValeCtl.remote(sw, command(act[0]), withConf(act, conf), TIMEOUT));
        }
        return 0;
    }

    private static String value(String[] args, int i, String opt) {
        if (i >= args.length) {
            throw new IllegalArgumentException(opt + " needs a value (bin/jnetmap vale-ctl --help)");
        }
        return args[i];
    }

    private static Command command(String opt) {
        return switch (opt) {
            case "-a" -> Command.ATTACH;
            case "-h" -> Command.ATTACH_HOST;
            case "-d" -> Command.DETACH;
            case "-n" -> Command.NEW_PORT;
            case "-r" -> Command.REMOVE_PORT;
            default -> throw new IllegalArgumentException(opt);
        };
    }

    /** {@code -n valeS:P} with {@code -C tx_slots,rx_slots,tx_rings,rx_rings} becomes {@code valeS:P@conf:...}. */
    private static String withConf(String[] act, String conf) {
        if (!act[0].equals("-n") || conf == null) {
            return act[1];
        }
        String[] v = conf.split(",");
        String[] keys = {"tx-slots", "rx-slots", "tx-rings", "rx-rings"};
        StringBuilder b = new StringBuilder(act[1]).append("@conf:");
        for (int k = 0; k < Math.min(v.length, keys.length); k++) {
            b.append(k > 0 ? "," : "").append(keys[k]).append('=').append(Integer.parseInt(v[k].trim()));
        }
        return b.toString();
    }

    private static String switchOf(String arg) {
        int colon = arg.indexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("port=" + arg + " (expected: valeS:PORT)");
        }
        return arg.substring(0, colon);
    }

    private static void show(String arg) {
        String sw = switchOf(arg);
        String port = arg.substring(arg.indexOf(':') + 1);
        List<ValeCtl.SwitchInfo> found = ValeCtl.find(sw);
        if (found.isEmpty()) {
            throw new NetmapException("no process hosts switch " + sw);
        }
        list(found, port);
    }

    /** Prints switches (optionally one port of them) with their counters. */
    static void list(List<ValeCtl.SwitchInfo> switches, String onlyPort) {
        if (switches.isEmpty()) {
            System.out.println("no VALE switches (a switch exists while a process has one of its ports open, or hosts it)");
            return;
        }
        for (ValeCtl.SwitchInfo s : switches) {
            System.out.printf("%s  pid %d, lookup %s, heartbeat %d ms ago%n", s.name(), s.pid(), s.lookup(), s.heartbeatAgeMs());
            System.out.printf("  %3s %-16s %-10s %-12s %5s %14s %14s %14s %14s  %s%n", "#", "port", "kind", "backend", "rings",
                    "tx.packets", "tx.bytes", "rx.packets", "rx.bytes", "drops");
            for (ValeCtl.PortInfo p : s.ports()) {
                if (onlyPort != null && !onlyPort.equals(p.name())) {
                    continue;
                }
                System.out.printf(Locale.ROOT, "  %3d %-16s %-10s %-12s %5d %14d %14d %14d %14d  %s%n", p.index(), p.name(),
                        kind(p), p.backend(), p.rings(), p.tx(SwitchFileLayout.TX_PACKETS), p.tx(SwitchFileLayout.TX_BYTES),
                        p.rx(SwitchFileLayout.RX_PACKETS), p.rx(SwitchFileLayout.RX_BYTES), drops(p));
            }
        }
    }

    private static String kind(ValeCtl.PortInfo p) {
        String k = p.kind() == SwitchFileLayout.KIND_ATTACHED ? "attached" : "vale";
        if ((p.flags() & SwitchFileLayout.FLAG_PERSISTENT) != 0) {
            k += ",pers";
        }
        if ((p.flags() & SwitchFileLayout.FLAG_BACKPRESSURE) != 0) {
            k += ",bp";
        }
        return k;
    }

    /** Total drops, then the non-zero causes. */
    private static String drops(ValeCtl.PortInfo p) {
        StringBuilder b = new StringBuilder().append(p.drops());
        for (int c = SwitchFileLayout.DROP_FULL; c <= SwitchFileLayout.BP_STALLS; c++) {
            if (p.tx(c) != 0) {
                b.append(' ').append(SwitchFileLayout.TX_NAMES[c]).append('=').append(p.tx(c));
            }
        }
        for (int c = SwitchFileLayout.RX_DROP_FULL; c < SwitchFileLayout.RX_COUNTERS; c++) {
            if (p.rx(c) != 0) {
                b.append(' ').append(SwitchFileLayout.RX_NAMES[c]).append('=').append(p.rx(c));
            }
        }
        return b.toString();
    }

    /** {@code --host}: makes and keeps switch {@code name} in this process. */
    private static int host(String name, String lookup, List<String> routes, List<String[]> actions, String conf) {
        LookupModule module = lookup(lookup, routes);
        ValeSwitch sw = ValeSwitches.create(name, module);
        CountDownLatch done = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            sw.close();
            done.countDown();
        });
        Runtime.getRuntime().addShutdownHook(hook);
        for (String[] act : actions) {
            switch (act[0]) {
                case "-a", "-h" -> SwitchAdmin.attach(act[1], act[0].equals("-h"))
                        .forEach(p -> System.out.println("attached " + p.fullName() + " (" + p.backend() + ")"));
                case "-n" -> System.out.println("created " + SwitchAdmin.newPersistent(withConf(act, conf)).fullName());
                default -> throw new IllegalArgumentException(act[0] + " is not for --host (use -a, -h, -n)");
            }
        }
        System.out.println("hosting " + name + " (lookup " + module.name() + ")"
                + sw.statsFile().map(f -> ", counters in " + f).orElse("") + "; Ctrl-C to stop");
        while (done.getCount() > 0) {
            sleep(1000);
            if (done.getCount() > 0 && !sw.portList().isEmpty()) {
                ValeCtl.find(name).stream().filter(s -> s.pid() == ProcessHandle.current().pid())
                        .forEach(s -> list(List.of(s), null));
            }
        }
        return 0;
    }

    private static LookupModule lookup(String name, List<String> routes) {
        boolean cached = name.endsWith("+fc");
        String base = cached ? name.substring(0, name.length() - 3) : name;
        LookupModule l;
        if (base.equals("l2")) {
            if (!routes.isEmpty()) {
                throw new IllegalArgumentException("--route needs -L l3");
            }
            l = new LearningBridge();
        } else if (base.equals("l3")) {
            L3Router r = new L3Router();
            for (String route : routes) {
                String[] p = route.split(",");
                if (p.length != 3) {
                    throw new IllegalArgumentException("route=" + route + " (expected: CIDR,PORT,MAC as in 10.0.0.0/8,b,02:00:00:00:00:0b)");
                }
                r.addRoute(p[0], r.nextHop(p[1], Packet.parseMac(p[2])));
            }
            l = r;
        } else {
            throw new IllegalArgumentException("-L " + name + " (expected: l2, l3, l2+fc or l3+fc)");
        }
        return cached ? new FlowCache(l) : l;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
