package io.jnetmap.examples;

import io.jnetmap.middlebox.Ipv4;
import io.jnetmap.middlebox.Nat44;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code bin/jnetmap nat -i INSIDE -i OUTSIDE -A ADDR -g GATEWAY_MAC ...}: {@link Nat44} between two ports. */
@Command(name = "nat", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Source NAT for IPv4 between two ports (an example middlebox): TCP, UDP and ICMP echo from inside leave "
                + "with the outside address and a port of the range; replies come back; checksums updated incrementally; "
                + "mappings expire when idle. No ARP: give the outside next hop's MAC. Runs until Ctrl-C.",
        footer = {"", "Example:", "  bin/jnetmap nat -i netmap:in0 -i netmap:out0 -A 192.0.2.1 -g 02:00:00:00:00:fe"})
public final class NatTool implements Callable<Integer>, Cli.Verbose {
    @Option(names = "-i", required = true, paramLabel = "PORT", description = "the inside port, then the outside port")
    List<String> ports = new ArrayList<>();

    @Option(names = "-A", required = true, paramLabel = "ADDR", description = "the outside address packets leave with")
    String address;

    @Option(names = "-g", required = true, paramLabel = "MAC", description = "MAC of the next hop on the outside")
    String gatewayMac;

    @Option(names = "--inside-mac", paramLabel = "MAC", description = "this box's MAC inside (default: the inside interface's)")
    String insideMac;

    @Option(names = "--outside-mac", paramLabel = "MAC", description = "this box's MAC outside (default: the outside interface's)")
    String outsideMac;

    @Option(names = "-p", paramLabel = "LO-HI", defaultValue = "20000-59999", description = "outside ports to allocate (default: ${DEFAULT-VALUE})")
    String portRange;

    @Option(names = "--tcp-timeout", paramLabel = "S", defaultValue = "300", description = "idle TCP mapping lifetime, seconds (default: ${DEFAULT-VALUE})")
    int tcpTimeout;

    @Option(names = "--udp-timeout", paramLabel = "S", defaultValue = "30", description = "idle UDP mapping lifetime (default: ${DEFAULT-VALUE})")
    int udpTimeout;

    @Option(names = "--icmp-timeout", paramLabel = "S", defaultValue = "10", description = "idle ICMP mapping lifetime (default: ${DEFAULT-VALUE})")
    int icmpTimeout;

    @Mixin
    BoxOptions box = new BoxOptions();

    @Spec
    CommandSpec spec;

    @Override
    public boolean verbose() {
        return box.verbose;
    }

    @Override
    public Integer call() throws Exception {
        Nat44.Config cfg;
        try {
            if (ports.size() != 2) {
                throw new IllegalArgumentException("-i given " + ports.size() + " times (expected: twice, inside then outside)");
            }
            box.check();
            String in = insideMac != null ? insideMac : TwoPortBox.macOf(ports.get(0));
            String out = outsideMac != null ? outsideMac : TwoPortBox.macOf(ports.get(1));
            if (in == null || out == null) {
                throw new IllegalArgumentException("--inside-mac/--outside-mac missing (expected: given, or netmap:IF ports whose MAC is read)");
            }
            String[] r = portRange.split("-");
            if (r.length != 2) {
                throw new IllegalArgumentException("-p " + portRange + " (expected: LO-HI)");
            }
            for (int t : new int[] {tcpTimeout, udpTimeout, icmpTimeout}) {
                if (t < 1) {
                    throw new IllegalArgumentException("timeout " + t + " (expected: >= 1 second)");
                }
            }
            cfg = Nat44.Config.of(Ipv4.parseAddr(address), Nat44.parseMac(in), Nat44.parseMac(out), Nat44.parseMac(gatewayMac))
                    .withPorts(Integer.parseInt(r[0].trim()), Integer.parseInt(r[1].trim()))
                    .withTimeouts(TimeUnit.SECONDS.toNanos(tcpTimeout), TimeUnit.SECONDS.toNanos(udpTimeout), TimeUnit.SECONDS.toNanos(icmpTimeout));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        Nat44 nat = new Nat44(cfg);
        TwoPortBox.run("nat", ports.get(0), ports.get(1), nat.outbound(), nat.inbound(), box.waitStrategy(), box.cpu, spec.commandLine().getOut(),
                () -> "translated " + nat.translated() + " dropped " + nat.dropped() + " mappings " + nat.mappings()
                        + " arp-replies " + nat.arpReplies());
        return Cli.OK;
    }
}
