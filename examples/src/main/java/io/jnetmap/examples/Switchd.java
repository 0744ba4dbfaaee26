package io.jnetmap.examples;

import io.jnetmap.control.ControlServer;
import io.jnetmap.vale.Packet;
import io.jnetmap.vale.ValeSwitch;
import io.jnetmap.vale.ValeSwitches;
import io.jnetmap.vale.lookup.L3Router;
import io.jnetmap.vale.lookup.LearningBridge;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code bin/jnetmap switchd}: hosts switches in this process and serves their REST API, metrics and
 * live page over HTTP ({@link ControlServer}) until interrupted. vale-ctl keeps working on them.
 */
@Command(name = "switchd", sortOptions = false,
        description = {"Hosts switches and serves HTTP: the REST API under /api/v1, Prometheus metrics at /metrics, "
                + "the live page at /. vale-ctl works on the switches too."},
        footer = {"", "Examples:", "  bin/jnetmap switchd                        (vale0 on http://127.0.0.1:8780/)",
            "  bin/jnetmap switchd -L l3 vale1 vale2       (two routers)",
            "  bin/jnetmap switchd -L l3 --route 10.1.0.0/16,b,02:00:00:00:00:0b vale1",
            "  bin/jnetmap switchd --http 0.0.0.0:8780 --http-token-file token.txt vale0"})
public final class Switchd implements Callable<Integer> {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help")
    boolean help;

    @Option(names = {"-V", "--version"}, versionHelp = true, description = "print the version")
    boolean version;

    @Option(names = "--http", paramLabel = "ADDR:PORT", defaultValue = "127.0.0.1:8780",
            description = "where to serve HTTP (default: ${DEFAULT-VALUE}; port 0: any free port)")
    String http;

    @Option(names = "--http-token-file", paramLabel = "FILE",
            description = "a file holding the bearer token every change needs (required for an address other than loopback)")
    Path tokenFile;

    @Option(names = "-L", paramLabel = "LOOKUP", defaultValue = "l2", description = "lookup module of the switches: l2 or l3 (default: ${DEFAULT-VALUE})")
    String lookup;

    @Option(names = "--route", paramLabel = "CIDR,PORT,MAC",
            description = "with -L l3: a route of every switch (repeatable), e.g. 10.1.0.0/16,b,02:00:00:00:00:0b; listed by GET .../routes")
    List<String> routes = new ArrayList<>();

    @Parameters(paramLabel = "valeS", description = "switches to host (default: vale0)")
    List<String> names = new ArrayList<>();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        int colon = http.lastIndexOf(':');
        int port;
        try {
            port = colon < 0 ? -1 : Integer.parseInt(http.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 0 || port > 65535) {
            throw new ParameterException(spec.commandLine(), "--http " + http + " (expected: ADDR:PORT, e.g. 127.0.0.1:8780)");
        }
        String host = http.substring(0, colon).replace("[", "").replace("]", "");
        if (!lookup.equals("l2") && !lookup.equals("l3")) {
            throw new ParameterException(spec.commandLine(), "-L " + lookup + " (expected: l2 or l3)");
        }
        if (!routes.isEmpty() && !lookup.equals("l3")) {
            throw new ParameterException(spec.commandLine(), "--route needs -L l3");
        }
        List<int[]> cidrs = new ArrayList<>();
        List<String[]> hops = new ArrayList<>();
        for (String r : routes) {
            String[] f = r.split(",");
            try {
                if (f.length != 3) {
                    throw new IllegalArgumentException("three fields");
                }
                cidrs.add(L3Router.parseCidr(f[0]));
                Packet.parseMac(f[2]);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--route " + r + " (expected: CIDR,PORT,MAC as in "
                        + "10.1.0.0/16,b,02:00:00:00:00:0b; " + e.getMessage() + ")");
            }
            hops.add(f);
        }
        List<String> wanted = names.isEmpty() ? List.of("vale0") : names;
        List<ValeSwitch> switches = new ArrayList<>();
        CountDownLatch done = new CountDownLatch(1);
        try {
            for (String n : wanted) {
                L3Router router = lookup.equals("l3") ? new L3Router() : null;
                for (int i = 0; i < cidrs.size(); i++) {
                    router.addRoute(cidrs.get(i)[0], cidrs.get(i)[1], router.nextHop(hops.get(i)[1], Packet.parseMac(hops.get(i)[2])));
                }
                switches.add(ValeSwitches.create(n, router != null ? router : new LearningBridge()));
            }
            try (ControlServer server = ControlServer.start(host, port, tokenFile, switches);
                 StopOnSignal stop = new StopOnSignal("switchd-stop", done::countDown, 10)) {
                out.println("switchd: " + String.join(", ", wanted) + " (lookup " + lookup + ") on " + server.url()
                        + (tokenFile != null ? " (changes need the bearer token)" : "") + "; Ctrl-C to stop");
                out.flush();
                done.await();
                out.println("switchd: stopping");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            for (ValeSwitch sw : switches) {
                try {
                    sw.close();
                } catch (RuntimeException e) {
                    out.println("switchd: " + e.getMessage());
                }
            }
        }
        return Cli.OK;
    }
}
