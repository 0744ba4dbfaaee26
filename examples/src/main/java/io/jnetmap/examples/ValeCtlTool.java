package io.jnetmap.examples;

import io.jnetmap.core.NetmapException;
import io.jnetmap.examples.traffic.Frame;
import io.jnetmap.vale.LookupModule;
import io.jnetmap.vale.SwitchAdmin;
import io.jnetmap.vale.ValeSwitches;
import io.jnetmap.vale.ctl.SwitchFileLayout;
import io.jnetmap.vale.ctl.ValeCtl;
import io.jnetmap.vale.lookup.FlowCache;
import io.jnetmap.vale.lookup.L3Router;
import io.jnetmap.vale.lookup.LearningBridge;
import io.jnetmap.vale.ValeSwitch;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code bin/jnetmap vale-ctl}: netmap's vale-ctl for jnetmap's switches.
 *
 * <p>A switch lives in the process that created it (there is no kernel to hold it). From any other
 * process this tool lists every switch and its counters (read-only, from the switches' counters files)
 * and sends attach/detach/create/remove requests to the hosting process through the file's mailbox;
 * {@code --host valeS} makes this process the host of switch S until it is interrupted.
 */
@Command(name = "vale-ctl", sortOptions = false,
        description = {"netmap's vale-ctl for jnetmap's switches. Without an action: every switch of every process, "
                + "its ports and counters.",
            "A switch lives in the process that created it. -a/-h/-d/-n/-r are sent to that process through the mailbox "
                + "in the switch's counters file (.vale/ under $JNETMAP_DIR or /dev/shm/jnetmap); actions run in the order given."},
        footer = {"", "Examples:", "  bin/jnetmap vale-ctl                          (switches, ports, counters)",
            "  bin/jnetmap vale-ctl -a vale0:veth1           (attach NIC veth1 to vale0)",
            "  bin/jnetmap vale-ctl --host vale0 -h vale0:veth1   (host vale0 here, with veth1 and its host stack)"})
public final class ValeCtlTool implements Callable<Integer>, Cli.InOrder {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    /** What {@code -h} holds when given without a value: help. */
    private static final String HELP = "(help)";

    /** An action option and its argument, in command-line order. */
    private record Action(String option, String arg) {
    }

    private final List<Action> actions = new ArrayList<>();

    @Option(names = "--help", usageHelp = true, description = "show this help (so does -h without a value)")
    boolean help;

    @Option(names = {"-V", "--version"}, versionHelp = true, description = "print the version")
    boolean version;

    @Option(names = "-w", paramLabel = "SECONDS", defaultValue = "0", description = "without an action: list again every SECONDS")
    double watch;

    @Option(names = "-l", paramLabel = "valeS:P", description = "one port: switch, index, counters")
    void listPort(String port) {
        actions.add(new Action("-l", port));
    }

    @Option(names = "-a", paramLabel = "valeS:IF", description = "attach interface IF (netmap:IF) to switch S; "
            + "valeS:NAME=PORTSPEC attaches any port (pipe end, host port ...) as NAME")
    void attach(String port) {
        actions.add(new Action("-a", port));
    }

    @Option(names = "-h", paramLabel = "valeS:IF", arity = "0..1", fallbackValue = HELP,
            description = "attach IF and its host stack (netmap:IF^); without a value: this help")
    void attachWithHost(String port) {
        actions.add(new Action("-h", port));
    }

    @Option(names = "-d", paramLabel = "valeS:P", description = "detach an attached port, or remove a persistent one")
    void detach(String port) {
        actions.add(new Action("-d", port));
    }

    @Option(names = "-n", paramLabel = "valeS:P", description = "create a persistent VALE port")
    void create(String port) {
        actions.add(new Action("-n", port));
    }

    @Option(names = "-C", split = ",", paramLabel = "TX_SLOTS,RX_SLOTS,TX_RINGS,RX_RINGS", hideParamSyntax = true,
            description = "geometry of the ports -n creates (the first 1 to 4 of these numbers)")
    List<Integer> conf;

    @Option(names = "-r", paramLabel = "valeS:P", description = "remove a persistent VALE port")
    void remove(String port) {
        actions.add(new Action("-r", port));
    }

    @Option(names = "--host", paramLabel = "valeS", description = "host switch S in this process until interrupted, "
            + "answering the requests above from other processes (and doing -a/-h/-n given with it first)")
    String host;

    @Option(names = "-L", paramLabel = "LOOKUP", defaultValue = "l2", description = "with --host: l2, l3, l2+fc or l3+fc (default: ${DEFAULT-VALUE})")
    String lookup;

    @Option(names = "--route", paramLabel = "CIDR,PORT,MAC", description = "with --host -L l3: a route, e.g. 10.0.0.0/8,b,02:00:00:00:00:0b")
    List<String> routes = new ArrayList<>();

    @Spec
    CommandSpec spec;

    private PrintWriter out;

    @Override
    public Integer call() {
        out = spec.commandLine().getOut();
        if (actions.stream().anyMatch(a -> a.arg().equals(HELP))) {
            spec.commandLine().usage(out);
            return Cli.OK;
        }
        if (watch < 0) {
            throw new ParameterException(spec.commandLine(), "-w " + watch + " (expected: seconds >= 0)");
        }
        if (host != null) {
            return host(host, lookupModule(lookup, routes));
        }
        if (!routes.isEmpty() || !lookup.equals("l2")) {
            throw new ParameterException(spec.commandLine(), "-L and --route are for --host");
        }
        if (actions.isEmpty()) {
            while (true) {
                list(ValeCtl.list(), null, out);
                if (watch == 0) {
                    return Cli.OK;
                }
                sleep((long) (watch * 1000));
                out.println();
            }
        }
        for (Action act : actions) {
            if (act.option().equals("-l")) {
                show(act.arg());
                continue;
            }
            String sw = switchOf(act.arg());
            out.println(ValeCtl.remote(sw, command(act.option()), withConf(act), TIMEOUT));
        }
        return Cli.OK;
    }

    private static io.jnetmap.vale.ctl.Command command(String opt) {
        return switch (opt) {
            case "-a" -> io.jnetmap.vale.ctl.Command.ATTACH;
            case "-h" -> io.jnetmap.vale.ctl.Command.ATTACH_HOST;
            case "-d" -> io.jnetmap.vale.ctl.Command.DETACH;
            case "-n" -> io.jnetmap.vale.ctl.Command.NEW_PORT;
            case "-r" -> io.jnetmap.vale.ctl.Command.REMOVE_PORT;
            default -> throw new IllegalArgumentException(opt);
        };
    }

    /** {@code -n valeS:P} with {@code -C tx_slots,rx_slots,tx_rings,rx_rings} becomes {@code valeS:P@conf:...}. */
    private String withConf(Action act) {
        if (!act.option().equals("-n") || conf == null) {
            return act.arg();
        }
        String[] keys = {"tx-slots", "rx-slots", "tx-rings", "rx-rings"};
        if (conf.size() > keys.length) {
            throw new ParameterException(spec.commandLine(), "-C has " + conf.size()
                    + " numbers (expected: at most 4, tx_slots,rx_slots,tx_rings,rx_rings)");
        }
        StringBuilder b = new StringBuilder(act.arg()).append("@conf:");
        for (int k = 0; k < conf.size(); k++) {
            b.append(k > 0 ? "," : "").append(keys[k]).append('=').append(conf.get(k));
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

    private void show(String arg) {
        String sw = switchOf(arg);
        String port = arg.substring(arg.indexOf(':') + 1);
        List<ValeCtl.SwitchInfo> found = ValeCtl.find(sw);
        if (found.isEmpty()) {
            throw new NetmapException("no process hosts switch " + sw);
        }
        List<String> names = found.stream().flatMap(s -> s.ports().stream()).map(ValeCtl.PortInfo::name).toList();
        if (!names.contains(port)) {
            throw new NetmapException("switch " + sw + " has no port " + port
                    + (names.isEmpty() ? " (it has no ports)" : " (ports: " + String.join(", ", names) + ")"));
        }
        list(found, port, out);
    }

    /** Prints switches (optionally one port of them) with their counters, in columns as wide as their cells. */
    public static void list(List<ValeCtl.SwitchInfo> switches, String onlyPort, PrintWriter out) {
        if (switches.isEmpty()) {
            out.println("no VALE switches (a switch exists while a process has one of its ports open, or hosts it)");
            return;
        }
        for (ValeCtl.SwitchInfo s : switches) {
            out.printf("%s  pid %d, lookup %s, heartbeat %d ms ago%n", s.name(), s.pid(), s.lookup(), s.heartbeatAgeMs());
            Table t = new Table("  ", ">#", "port", "kind", "backend", ">rings", ">tx.packets", ">tx.bytes", ">rx.packets",
                    ">rx.bytes", "drops");
            for (ValeCtl.PortInfo p : s.ports()) {
                if (onlyPort == null || onlyPort.equals(p.name())) {
                    t.row(p.index(), p.name(), kind(p), p.backend(), p.rings(), p.tx(SwitchFileLayout.TX_PACKETS),
                            p.tx(SwitchFileLayout.TX_BYTES), p.rx(SwitchFileLayout.RX_PACKETS), p.rx(SwitchFileLayout.RX_BYTES), drops(p));
                }
            }
            t.print(out);
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
    private int host(String name, LookupModule module) {
        ValeSwitch sw = ValeSwitches.create(name, module);
        CountDownLatch done = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            sw.close();
            done.countDown();
        });
        Runtime.getRuntime().addShutdownHook(hook);
        for (Action act : actions) {
            switch (act.option()) {
                case "-a", "-h" -> SwitchAdmin.attach(act.arg(), act.option().equals("-h"))
                        .forEach(p -> out.println("attached " + p.fullName() + " (" + p.backend() + ")"));
                case "-n" -> out.println("created " + SwitchAdmin.newPersistent(withConf(act)).fullName());
                default -> throw new ParameterException(spec.commandLine(), act.option() + " is not for --host (use -a, -h, -n)");
            }
        }
        out.println("hosting " + name + " (lookup " + module.name() + ")"
                + sw.statsFile().map(f -> ", counters in " + f).orElse("") + "; Ctrl-C to stop");
        while (done.getCount() > 0) {
            sleep(1000);
            if (done.getCount() > 0 && !sw.portList().isEmpty()) {
                ValeCtl.find(name).stream().filter(s -> s.pid() == ProcessHandle.current().pid())
                        .forEach(s -> list(List.of(s), null, out));
            }
        }
        return Cli.OK;
    }

    private LookupModule lookupModule(String name, List<String> routes) {
        boolean cached = name.endsWith("+fc");
        String base = cached ? name.substring(0, name.length() - 3) : name;
        LookupModule l;
        if (base.equals("l2")) {
            if (!routes.isEmpty()) {
                throw new ParameterException(spec.commandLine(), "--route needs -L l3");
            }
            l = new LearningBridge();
        } else if (base.equals("l3")) {
            L3Router r = new L3Router();
            for (String route : routes) {
                String[] p = route.split(",");
                if (p.length != 3) {
                    throw new ParameterException(spec.commandLine(), "--route " + route
                            + " (expected: CIDR,PORT,MAC as in 10.0.0.0/8,b,02:00:00:00:00:0b)");
                }
                r.addRoute(p[0], r.nextHop(p[1], mac48(p[2])));
            }
            l = r;
        } else {
            throw new ParameterException(spec.commandLine(), "-L " + name + " (expected: l2, l3, l2+fc or l3+fc)");
        }
        return cached ? new FlowCache(l) : l;
    }

    /** {@code aa:bb:cc:dd:ee:ff} as the switch keeps a MAC: 48 bits in a long, first octet highest. */
    private static long mac48(String text) {
        long mac = 0;
        for (byte b : Frame.mac(text)) {
            mac = mac << 8 | (b & 0xff);
        }
        return mac;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
