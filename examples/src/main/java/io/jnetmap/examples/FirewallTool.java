package io.jnetmap.examples;

import io.jnetmap.middlebox.Firewall;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code bin/jnetmap firewall -i INSIDE -i OUTSIDE -r RULE ...}: the stateful {@link Firewall} between two ports. */
@Command(name = "firewall", mixinStandardHelpOptions = true, sortOptions = false,
        description = "A stateful IPv4/IPv6 firewall between two ports (an example middlebox): rules by 5-tuple, first match wins, "
                + "default deny; TCP, UDP and ICMP(v6) echo connections a rule allows are tracked and their replies pass; ARP and "
                + "IPv6 neighbour discovery pass. Runs until Ctrl-C.",
        footer = {"", "Example:", "  bin/jnetmap firewall -i netmap:in0 -i netmap:out0 -r 'allow out tcp any any:80' -r 'allow out icmp any any'",
            "  bin/jnetmap firewall -i netmap:in0 -i netmap:out0 -r 'allow out tcp any [2001:db8::/32]:443'"})
public final class FirewallTool implements Callable<Integer>, Cli.Verbose {
    @Option(names = "-i", required = true, paramLabel = "PORT", description = "the inside port, then the outside port")
    List<String> ports = new ArrayList<>();

    @Option(names = "-r", paramLabel = "RULE",
            description = "allow|deny in|out|any tcp|udp|icmp|ip SRC DST, SRC/DST any, A.B.C.D[/N] or [IPV6[/N]], then [:PORT[-PORT]]; "
                    + "repeat, in order")
    List<String> rules = new ArrayList<>();

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
        List<Firewall.Rule> parsed = new ArrayList<>();
        try {
            if (ports.size() != 2) {
                throw new IllegalArgumentException("-i given " + ports.size() + " times (expected: twice, inside then outside)");
            }
            box.check();
            for (String r : rules) {
                parsed.add(Firewall.Rule.parse(r));
            }
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        Firewall fw = new Firewall(parsed);
        TwoPortBox.run("firewall", ports.get(0), ports.get(1), fw.outbound(), fw.inbound(), box.waitStrategy(), box.cpu, spec.commandLine().getOut(),
                () -> "passed " + fw.passed() + " denied " + fw.denied() + " connections " + fw.connections());
        return Cli.OK;
    }
}
