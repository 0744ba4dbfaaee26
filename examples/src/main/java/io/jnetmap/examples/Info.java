package io.jnetmap.examples;

import io.jnetmap.core.Geometry;
import io.jnetmap.core.Janitor;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.NetmapException;
import io.jnetmap.core.NetmapIf;
import io.jnetmap.core.Region;
import io.jnetmap.core.nic.HostIdentity;
import io.jnetmap.pipe.PipeLayout;
import io.jnetmap.sys.Linux;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code bin/jnetmap info}: which port kinds this build serves, the shared regions on this machine, and
 * the ports in them with the process that has each open. A pipe end is held by the process whose pid
 * is in its descriptor's STATE word ({@link PipeLayout}: 0 = closed), not by the process that created
 * both ends (the descriptor's OWNER_PID).
 */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Port kinds available, shared regions and the ports in them, with the process that has each open.")
public final class Info implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--gc", description = "first remove what processes killed with -9 left: region files no live process "
            + "maps, counters files of dead switch hosts; and give NICs back the MAC, addresses and routes a dead process "
            + "moved to their host-stack TAP (records of this network namespace)")
    boolean gc;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (gc) {
            Janitor.Sweep s = Janitor.sweep();
            out.println("gc: removed " + (s.removed().isEmpty() ? "nothing" : String.join(", ", s.removed()))
                    + (s.kept().isEmpty() ? "" : "; in use: " + String.join(", ", s.kept())));
        }
        out.println("port kinds:");
        Table kinds = new Table("  ", null, null);
        Netmap.kinds().forEach((k, cls) -> kinds.row(k, cls));
        kinds.print(out);
        HostIdentity.report(gc).forEach(out::println);
        Path dir = Region.directory();
        out.println("shared regions in " + dir + ":");
        if (!Files.isDirectory(dir)) {
            out.println("  (none: " + dir + " does not exist yet)");
            return Cli.OK;
        }
        List<Path> files;
        try (var s = Files.list(dir)) {
            files = s.filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
        } catch (IOException e) {
            out.println("  (none: " + e.getMessage() + ")");
            return Cli.OK;
        }
        Table regions = new Table("  ", "region", ">bytes", ">bufs", ">buf_size", ">free", ">rings", ">processes");
        Table ports = new Table("  ", "region", "port", "holder", ">tx_rings", ">rx_rings");
        List<String> unreadable = new ArrayList<>();
        for (Path f : files) {
            String name = f.getFileName().toString();
            try (Region r = Region.openShared(name)) {
                Geometry g = r.geometry();
                regions.row(name, String.format(Locale.ROOT, "%,d", g.regionSize()), g.bufs(), g.bufSize(), r.freeBufs(),
                        g.rings(), r.liveUsers() - 1); // this process is one of the users now
                for (NetmapIf nifp : r.interfaces()) {
                    ports.row(name, nifp.name(), holder(nifp), nifp.txRings(), nifp.rxRings());
                }
            } catch (NetmapException | IllegalArgumentException e) {
                unreadable.add("  " + name + ": unreadable: " + e.getMessage()
                        + (Files.exists(f) && !Janitor.inUse(f) ? " [stale: no process maps it; info --gc removes it]" : ""));
            }
        }
        if (regions.size() == 0 && unreadable.isEmpty()) {
            out.println("  (none)");
            return Cli.OK;
        }
        if (regions.size() > 0) {
            regions.print(out);
        }
        unreadable.forEach(out::println);
        if (ports.size() > 0) {
            out.println("ports in them:");
            ports.print(out);
        }
        return Cli.OK;
    }

    /** Who has the port open: a pipe end's STATE pid (0 = nobody), else the process that opened the port. */
    static String holder(NetmapIf nifp) {
        boolean pipeEnd = nifp.kind() == PipeLayout.KIND_MASTER || nifp.kind() == PipeLayout.KIND_SLAVE;
        int pid = pipeEnd ? nifp.state() : nifp.ownerPid();
        if (pid == 0) {
            return "closed";
        }
        return "pid " + pid + (Linux.processAlive(pid) ? "" : " (gone)");
    }
}
