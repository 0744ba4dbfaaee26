package io.jnetmap.examples;

import io.jnetmap.core.Geometry;
import io.jnetmap.core.NetmapIf;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.NetmapException;
import io.jnetmap.core.Region;
import io.jnetmap.core.nic.HostIdentity;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** {@code bin/jnetmap info}: which port kinds this build serves, and the shared regions on this machine. */
public final class Info {
    private Info() {
    }

    public static void main(String[] args) {
        boolean gc = args.length == 1 && args[0].equals("--gc");
        if (args.length > 0 && !gc) {
            System.out.println("usage: bin/jnetmap info [--gc]  (--gc: give NICs back the addresses and routes"
                    + " a dead process moved to their host-stack TAP)");
            System.exit(args[0].equals("--help") ? 0 : 2);
        }
        System.out.println("port kinds:");
        Netmap.kinds().forEach((k, cls) -> System.out.printf("  %-8s %s%n", k, cls));
        HostIdentity.report(gc).forEach(System.out::println);
        Path dir = Region.directory();
        System.out.println("shared regions in " + dir + ":");
        List<Path> files;
        try (var s = Files.list(dir)) {
            files = s.filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
        } catch (IOException e) {
            System.out.println("  (none: " + e.getMessage() + ")");
            return;
        }
        if (files.isEmpty()) {
            System.out.println("  (none)");
        }
        for (Path f : files) {
            String name = f.getFileName().toString();
            try (Region r = Region.openShared(name)) {
                Geometry g = r.geometry();
                System.out.printf("  %-24s %,d bytes, %d bufs x %d B (%d free), %d rings, live processes: %d%n",
                        name, g.regionSize(), g.bufs(), g.bufSize(), r.freeBufs(), g.rings(), r.liveUsers() - 1);
                for (NetmapIf nifp : r.interfaces()) {
                    System.out.printf("    port %-20s pid %d, %d tx / %d rx rings%n", nifp.name(), nifp.ownerPid(),
                            nifp.txRings(), nifp.rxRings());
                }
            } catch (NetmapException | IllegalArgumentException e) {
                System.out.printf("  %-24s unreadable: %s%n", name, e.getMessage());
            }
        }
    }
}
