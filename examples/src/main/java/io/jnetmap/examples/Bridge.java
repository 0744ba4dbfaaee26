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

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
public final class Bridge {
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

    private Bridge() {
    }

    static void usage() {
        System.out.println("usage: bin/jnetmap bridge -i PORT [-i PORT] [-b BATCH] [-w WAIT] [-c] [-a CPU] [-W] [-v]");
        System.out.println("  -i PORT   a port (twice: the two sides; once, netmap:IF: the NIC and its host stack IF^)");
        System.out.println("  -b BATCH  packets moved per ring per round (default 1024)");
        System.out.println("  -w WAIT   seconds to wait before forwarding (default 0)");
        System.out.println("  -c        always copy packets (default: swap buffers when both ports share a region)");
        System.out.println("  -a CPU    pin the forwarding thread to CPU");
        System.out.println("  -W        busy-wait instead of sleeping when both ports are idle");
        System.out.println("  -v        print rates every second");
    }

    /** Parses the command line; throws IllegalArgumentException with what was expected. */
    public static Options parse(String[] args) {
        List<String> ports = new ArrayList<>();
        int batch = 1024;
        int wait = 0;
        boolean copy = false;
        boolean verbose = false;
        boolean busy = false;
        int cpu = -1;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "-i" -> ports.add(value(args, ++i, "-i"));
                case "-b" -> batch = number(args, ++i, "-b", 1, 1 << 16);
                case "-w" -> wait = number(args, ++i, "-w", 0, 3600);
                case "-a" -> cpu = number(args, ++i, "-a", 0, 1023);
                case "-c" -> copy = true;
                case "-v" -> verbose = true;
                case "-W" -> busy = true;
                default -> throw new IllegalArgumentException("unknown option " + a + " (expected: -i, -b, -w, -c, -a, -W, -v)");
            }
        }
        if (ports.isEmpty() || ports.size() > 2) {
            throw new IllegalArgumentException("-i given " + ports.size() + " times (expected: once or twice)");
        }
        if (ports.size() == 1) {
            PortName pn = PortName.parse(ports.get(0));
            if (pn.body() != PortName.Body.NETMAP || pn.mode() != PortName.Mode.ALL_NIC) {
                throw new IllegalArgumentException("-i " + ports.get(0)
                        + " alone (expected: netmap:IF, bridged with its host stack netmap:IF^; or give two -i)");
            }
            ports.add(pn.parent() + "^" + pn.withoutOptions().substring(pn.parent().length()));
        }
        return new Options(List.copyOf(ports), batch, wait, copy, cpu, verbose, busy);
    }

    private static String value(String[] args, int i, String opt) {
        if (i >= args.length) {
            throw new IllegalArgumentException(opt + " needs a value");
        }
        return args[i];
    }

    private static int number(String[] args, int i, String opt, int min, int max) {
        String v = value(args, i, opt);
        try {
            int n = Integer.parseInt(v);
            if (n < min || n > max) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(opt + " " + v + " (expected: a number in " + min + ".." + max + ")");
        }
    }

    public static void main(String[] args) {
        if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h"))) {
            usage();
            return;
        }
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("bridge: " + e.getMessage());
            usage();
            System.exit(2);
            return;
        }
        Port a;
        Port b;
        // two NIC ports: carry offload state (partial checksums, super-frames) end to end
        String[] names = VnetHeader.endToEnd(o.ports().get(0), o.ports().get(1));
        try {
            a = Netmap.open(names[0]);
        } catch (NetmapException | IllegalArgumentException e) {
            System.err.println("bridge: " + e.getMessage());
            System.exit(1);
            return;
        }
        try {
            b = openSecond(a, names[1], o.forceCopy());
        } catch (NetmapException | IllegalArgumentException e) {
            a.close();
            System.err.println("bridge: " + e.getMessage());
            System.exit(1);
            return;
        }
        boolean zeroCopy = !o.forceCopy() && a.sharesMemoryWith(b);
        System.out.println("bridge: " + a.name() + " (" + a.backend() + ") <-> " + b.name() + " (" + b.backend() + "), "
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
                    reporter = Thread.ofPlatform().daemon().name("bridge-rates").start(() -> report(c, stop));
                }
                run(a, b, o.batch(), zeroCopy, o.busyWait() ? WaitStrategy.busySpin() : DEFAULT_WAIT, stop::get, c);
                if (reporter != null) {
                    reporter.interrupt();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                System.out.println("bridge: forwarded " + c.aToB.get() + " packets " + a.name() + " -> " + b.name() + ", "
                        + c.bToA.get() + " " + b.name() + " -> " + a.name());
                printStats(a);
                printStats(b);
                b.close();
                a.close();
            }
        }
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

    private static void printStats(Port p) {
        if (p instanceof NicPort n) {
            System.out.println("bridge: " + p.name() + " " + n.stats());
        }
    }

    private static void report(Counters c, AtomicBoolean stop) {
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
                System.out.printf("bridge: %,d pps a->b, %,d pps b->a%n", ab - lastA, ba - lastB);
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
