package io.jnetmap.examples;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.NetmapException;
import io.jnetmap.core.Port;
import io.jnetmap.core.PortName;
import io.jnetmap.core.Ring;
import io.jnetmap.core.nic.NicPort;
import io.jnetmap.core.offload.VnetHeader;
import io.jnetmap.poll.Pollable;
import io.jnetmap.poll.Poller;
import io.jnetmap.poll.WaitStrategy;
import io.jnetmap.sys.Affinity;

import picocli.CommandLine;
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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * {@code bin/jnetmap bridge -i A -i B [-b BATCH] [-w WAIT] [-c] [-a CPU] [-W] [-v]}: forwards every packet
 * from A to B and from B to A, as netmap's {@code bridge}. With both ports in one memory region (the
 * second is opened with {@code @share=} the first when it can be) packets move by swapping buffer
 * indices; otherwise, or with {@code -c}, they are copied. With a single {@code -i netmap:IF} the other
 * side is the interface's host stack, {@code netmap:IF^}.
 *
 * <p>One thread does everything: it spins while packets flow and, when both ports have been idle for
 * 1 ms ({@code -W}: never), sleeps in a {@link Poller} on both. It runs until interrupted (SIGINT,
 * SIGTERM) and then prints what it forwarded and the ports' kernel counters.
 */
@Command(name = "bridge", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Forwards between two ports (or a NIC and its host stack), zero copy when they share memory, "
                + "as netmap's bridge. Runs until Ctrl-C, then prints what it forwarded.",
        footer = {"", "Examples:", "  bin/jnetmap bridge -i netmap:vethL -i netmap:vethR     (zero copy between two NICs)",
            "  bin/jnetmap bridge -i netmap:eth1                      (eth1 and its host stack eth1^)"})
public final class Bridge implements Callable<Integer>, Cli.Verbose {
    /** While idle: spin this long (a sleeping thread costs a ~30 us wake-up on VMs), then sleep. */
    public static final WaitStrategy DEFAULT_WAIT = WaitStrategy.spinThenBlock(Duration.ofMillis(1));
    /** How long one sleep lasts before the stop flag is looked at again. */
    private static final long IDLE_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

    /**
     * Options of the tool.
     *
     * @param ports     the two port names ({@code -i}, given once or twice)
     * @param batch     most packets moved per ring per round ({@code -b}, netmap's default 1024)
     * @param waitSec   seconds to wait after opening before forwarding ({@code -w}, for links to come up)
     * @param forceCopy copy bytes even when buffers could be swapped ({@code -c})
     * @param cpu       CPU to pin the forwarding thread to, or -1 ({@code -a})
     * @param verbose   print rates every second ({@code -v})
     * @param busyWait  never sleep, spin while idle ({@code -W}, as pkt-gen's)
     */
    public record Options(List<String> ports, int batch, int waitSec, boolean forceCopy, int cpu, boolean verbose,
                          boolean busyWait) {
    }

    /** Packets forwarded so far, per direction (read by any thread). */
    public static final class Counters {
        public final AtomicLong aToB = new AtomicLong();
        public final AtomicLong bToA = new AtomicLong();
    }

    @Option(names = "-i", required = true, paramLabel = "PORT",
            description = "a port; twice: the two sides; once, netmap:IF: the NIC and its host stack IF^")
    List<String> ports = new ArrayList<>();

    @Option(names = "-b", paramLabel = "BATCH", defaultValue = "1024", description = "packets moved per ring per round (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "-w", paramLabel = "WAIT", defaultValue = "0", description = "seconds to wait before forwarding (default: ${DEFAULT-VALUE})")
    int waitSec;

    @Option(names = "-c", description = "always copy packets (default: swap buffers when both ports share a region)")
    boolean forceCopy;

    @Option(names = "-a", paramLabel = "CPU", defaultValue = "-1", description = "pin the forwarding thread to CPU")
    int cpu;

    @Option(names = "-W", description = "busy-wait instead of sleeping when both ports are idle")
    boolean busyWait;

    @Option(names = "-v", description = "print rates every second (and the stack trace of a failure)")
    boolean verbose;

    @Spec
    CommandSpec spec;

    /** Parses the command line; throws IllegalArgumentException with what was expected. */
    public static Options parse(String[] args) {
        Bridge b = new Bridge();
        try {
            new CommandLine(b).setExpandAtFiles(false).parseArgs(args);
        } catch (ParameterException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        return b.options();
    }

    @Override
    public boolean verbose() {
        return verbose;
    }

    /** The options, checked; one {@code -i netmap:IF} becomes the pair IF, IF^. */
    private Options options() {
        if (ports.size() > 2) {
            throw new IllegalArgumentException("-i given " + ports.size() + " times (expected: once or twice)");
        }
        range("-b", batch, 1, 1 << 16);
        range("-w", waitSec, 0, 3600);
        if (cpu != -1) {
            range("-a", cpu, 0, 1023);
        }
        List<String> pair = new ArrayList<>(ports);
        if (pair.size() == 1) {
            PortName pn = PortName.parse(pair.get(0));
            if (pn.body() != PortName.Body.NETMAP || pn.mode() != PortName.Mode.ALL_NIC) {
                throw new IllegalArgumentException("-i " + pair.get(0)
                        + " alone (expected: netmap:IF, bridged with its host stack netmap:IF^; or give two -i)");
            }
            pair.add(pn.parent() + "^" + pn.withoutOptions().substring(pn.parent().length()));
        }
        return new Options(List.copyOf(pair), batch, waitSec, forceCopy, cpu, verbose, busyWait);
    }

    private static void range(String opt, int v, int min, int max) {
        if (v < min || v > max) {
            throw new IllegalArgumentException(opt + " " + v + " (expected: " + min + ".." + max + ")");
        }
    }

    @Override
    public Integer call() {
        Options o;
        try {
            o = options();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        // two NIC ports: carry offload state (partial checksums, super-frames) end to end
        String[] names = VnetHeader.endToEnd(o.ports().get(0), o.ports().get(1));
        Port a = Netmap.open(names[0]);
        Port b;
        try {
            b = openSecond(a, names[1], o.forceCopy());
        } catch (RuntimeException e) {
            a.close();
            throw e;
        }
        boolean zeroCopy = !o.forceCopy() && a.sharesMemoryWith(b);
        out.println("bridge: " + a.name() + " (" + a.backend() + ") <-> " + b.name() + " (" + b.backend() + "), "
                + (zeroCopy ? "zero-copy (buffers swapped, one region)" : "copy") + ", batch " + o.batch());
        Counters c = new Counters();
        AtomicBoolean stop = new AtomicBoolean();
        try (StopOnSignal signal = new StopOnSignal("bridge-stop", () -> stop.set(true), 3)) {
            try {
                if (o.waitSec() > 0) {
                    Thread.sleep(o.waitSec() * 1000L);
                }
                if (o.cpu() >= 0) {
                    Affinity.pinCurrentThread(o.cpu());
                }
                Thread reporter = null;
                if (o.verbose()) {
                    reporter = Thread.ofPlatform().daemon().name("bridge-rates").start(() -> report(c, stop, out));
                }
                run(a, b, o.batch(), zeroCopy, o.busyWait() ? WaitStrategy.busySpin() : DEFAULT_WAIT, stop::get, c);
                if (reporter != null) {
                    reporter.interrupt();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                out.println("bridge: forwarded " + c.aToB.get() + " packets " + a.name() + " -> " + b.name() + ", "
                        + c.bToA.get() + " " + b.name() + " -> " + a.name());
                printStats(a, out);
                printStats(b, out);
                b.close();
                a.close();
            }
        }
        return Cli.OK;
    }

    /**
     * Opens the second port in the first one's region when that is possible and wanted (both
     * {@code netmap:} ports, no {@code @share} given, no {@code -c}); otherwise, or if the region is
     * full, as named.
     */
    public static Port openSecond(Port a, String name, boolean forceCopy) {
        PortName pn = PortName.parse(name);
        if (!forceCopy && pn.option("share") == null && pn.kind().equals("netmap") && a.portName().kind().equals("netmap")) {
            try {
                return Netmap.open(name + "@share=" + a.portName().withoutOptions());
            } catch (NetmapException.OutOfMemory e) {
                System.out.println("bridge: " + name + " does not fit in " + a.name() + "'s region (" + e.getMessage()
                        + "): copying");
            }
        }
        return Netmap.open(name);
    }

    private static void printStats(Port p, PrintWriter out) {
        if (p instanceof NicPort n) {
            out.println("bridge: " + p.name() + " " + n.stats());
        }
    }

    private static void report(Counters c, AtomicBoolean stop, PrintWriter out) {
        long lastA = 0;
        long lastB = 0;
        while (!stop.get()) {
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                return;
            }
            long ab = c.aToB.get();
            long ba = c.bToA.get();
            if (ab != lastA || ba != lastB) { // an idle bridge stays quiet
                out.printf("bridge: %,d pps a->b, %,d pps b->a%n", ab - lastA, ba - lastB);
            }
            lastA = ab;
            lastB = ba;
        }
    }

    /**
     * Forwards between {@code a} and {@code b} until {@code stop} returns true (looked at between rounds
     * and at least every 200 ms while idle). {@code zeroCopy} needs both ports in one region. Each round
     * syncs both ports (netmap's poll() on both, without sleeping) and moves what arrived; when nothing
     * moved, {@code wait} decides between spinning and sleeping. Allocates nothing per packet.
     */
    public static void run(Port a, Port b, int batch, boolean zeroCopy, WaitStrategy wait, BooleanSupplier stop,
                           Counters counters) {
        if (zeroCopy && !a.sharesMemoryWith(b)) {
            throw new IllegalArgumentException("zero copy between " + a.name() + " and " + b.name()
                    + " (expected: ports of one region; they are in " + a.region().name() + " and " + b.region().name() + ")");
        }
        try (Poller poller = new Poller(wait)) {
            poller.add(a.pollable(), Pollable.IN);
            poller.add(b.pollable(), Pollable.IN);
            boolean moved = true;
            while (!stop.getAsBoolean()) {
                // rxsync of both (hands back what the last round took); wait only after an idle round
                poller.poll(moved ? Poller.NOW : IDLE_WAIT_NANOS);
                int ab = forward(a, b, batch, zeroCopy);
                int ba = forward(b, a, batch, zeroCopy);
                moved = ab + ba > 0;
                if (moved) {
                    counters.aToB.getAndAdd(ab);
                    counters.bToA.getAndAdd(ba);
                }
            }
        }
    }

    /**
     * Moves up to {@code batch} packets from each RX ring of {@code src} into the TX rings of
     * {@code dst}, then txsyncs each TX ring it filled (one system call per batch). RX slots are handed
     * back at the next rxsync.
     */
    public static int forward(Port src, Port dst, int batch, boolean zeroCopy) {
        int moved = 0;
        int nt = dst.txRings();
        int ti = 0;
        for (int ri = 0; ri < src.rxRings(); ri++) {
            Ring r = src.rxRing(ri);
            int budget = Math.min(batch, r.space());
            while (budget > 0 && ti < nt) {
                Ring t = dst.txRing(ti);
                int room = t.space();
                if (room == 0) {
                    t.sync(); // reclaim completed slots
                    room = t.space();
                    if (room == 0) {
                        ti++;
                        continue;
                    }
                }
                int n = Math.min(budget, room);
                Ring.forward(r, t, n, zeroCopy);
                t.sync();
                budget -= n;
                moved += n;
            }
        }
        return moved;
    }
}
