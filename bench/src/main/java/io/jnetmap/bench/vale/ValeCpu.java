package io.jnetmap.bench.vale;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteOrder;
import java.util.Locale;

/**
 * The switch's cost per packet in CPU time of the forwarding thread, the figure that survives a shared
 * machine (a descheduled thread accrues no CPU time, and no second thread can fall behind): one thread
 * sends a batch of 512 frames to port {@code a}, its txsync forwards them (lookup, lease, copy or swap,
 * publish) into port {@code b}, the same thread drains {@code b}; the rate is packets per CPU-second of
 * that thread. {@code bench/c/limits.c}'s {@code vale1t} mode does the same in C, so that
 * {@code …cpu.vs.c} compares equal work ({@link #suite}).
 *
 * <p>Standalone: {@code java -cp bench/target/benchmarks.jar io.jnetmap.bench.vale.ValeCpu copy|swap LEN SECONDS}
 * prints {@code vale.copy.2p.60B.cpu <ns per packet>}.
 */
public final class ValeCpu {
    static final int BATCH = ValeBench.BATCH;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static int switches;
    /** Heap bytes the measuring thread allocated per packet in the last {@link #nsPerPacket} (0 expected). */
    static double lastAllocPerPacket;

    private ValeCpu() {
    }

    /** Nanoseconds of thread CPU time per packet forwarded from {@code a} to {@code b}, over {@code seconds} of CPU time. */
    public static double nsPerPacket(boolean swap, int len, double seconds) {
        String sw = "valecpu" + (++switches) + "p" + ProcessHandle.current().pid();
        try (Port a = Netmap.open(sw + ":a");
             Port b = Netmap.open(sw + ":b" + (swap ? "@share=" + sw + ":a" : ""))) {
            Ring tx = a.txRing(0);
            Ring rx = b.rxRing(0);
            long bMac = 0x020000000102L;
            // b announces its address, so that the bridge learns it (then every frame is unicast to b)
            Ring bt = b.txRing(0);
            frame(bt.memory(), bt.bufOffset(bt.head()), 0xffffffffffffL, bMac);
            bt.setSlot(bt.head(), 60, 0);
            bt.advanceTo(bt.nextSlot(bt.head()));
            bt.sync();
            for (Ring r : new Ring[] {tx, a.rxRing(0), bt, rx}) {
                for (int i = 0; i < r.numSlots(); i++) {
                    frame(r.memory(), r.bufOffset(i), bMac, 0x020000000001L);
                }
            }
            drain(a.rxRing(0));
            ThreadMXBean mx = ManagementFactory.getThreadMXBean();
            long packets = 0;
            long warm = mx.getCurrentThreadCpuTime() + 1_000_000_000L; // 1 s of warm-up (JIT)
            while (mx.getCurrentThreadCpuTime() < warm) {
                packets += cycle(tx, rx, len);
            }
            resetStages();
            com.sun.management.ThreadMXBean amx = (com.sun.management.ThreadMXBean) mx;
            long a0 = amx.getCurrentThreadAllocatedBytes();
            long t0 = mx.getCurrentThreadCpuTime();
            long end = t0 + (long) (seconds * 1e9);
            packets = 0;
            long t;
            do {
                for (int k = 0; k < 64; k++) {
                    packets += cycle(tx, rx, len);
                }
                t = mx.getCurrentThreadCpuTime();
            } while (t < end);
            if (packets == 0) {
                throw new IllegalStateException("nothing delivered");
            }
            lastAllocPerPacket = (amx.getCurrentThreadAllocatedBytes() - a0) / (double) packets;
            printStages((swap ? "swap" : "copy") + "." + len + "B");
            return (t - t0) / (double) packets;
        }
    }

    /** Sends {@link #BATCH} frames of {@code len} bytes, lets the receiver take them; returns how many arrived. */
    static int cycle(Ring tx, Ring rx, int len) {
        if (STAGES) {
            System.arraycopy(FWD, 0, fwdBefore, 0, FWD.length);
        }
        long t0 = STAGES ? System.nanoTime() : 0;
        int i = tx.head();
        for (int k = 0; k < BATCH; k++) {
            tx.setSlot(i, len, 0);
            i = tx.nextSlot(i);
        }
        tx.advanceTo(i);
        long t1 = STAGES ? System.nanoTime() : 0;
        tx.sync();
        long t2 = STAGES ? System.nanoTime() : 0;
        rx.sync();
        int got = rx.space();
        rx.advanceTo(rx.tail());
        rx.sync();
        if (STAGES) {
            commitStages(t0, t1, t2, System.nanoTime());
        }
        if (got != BATCH) {
            throw new IllegalStateException("delivered " + got + " of " + BATCH + ": the figure would count drops");
        }
        return got;
    }

    // ----------------------------------------------------------------------------------------------
    // the per-stage breakdown (-Djnetmap.vale.stages=true): wall time per stage, one nanoTime per
    // stage per batch of 512 (the Forwarder's own stages are read from its package-private counters)

    private static final boolean STAGES = Boolean.getBoolean("jnetmap.vale.stages");
    /** The user's slot writes, the whole txsync, the receiver's rxsync and release. */
    private static final long[] harness = new long[3];
    /** The Forwarder's own counters (summed by it), a copy before each cycle, and the kept sums. */
    private static final long[] FWD = STAGES ? forwarderStages() : new long[7];
    private static final long[] fwdBefore = new long[7];
    private static final long[] fwdKept = new long[7];
    private static long bestCycle = Long.MAX_VALUE;
    private static long keptPackets;
    private static long allPackets;

    /**
     * Keeps a cycle's stage times only if it took less than twice the fastest cycle: on a shared
     * machine a cycle during which the thread lost its CPU adds other threads' time to a stage.
     */
    private static void commitStages(long t0, long t1, long t2, long t3) {
        long total = t3 - t0;
        bestCycle = Math.min(bestCycle, total);
        allPackets += BATCH;
        if (total > 2 * bestCycle) {
            return;
        }
        harness[0] += t1 - t0;
        harness[1] += t2 - t1;
        harness[2] += t3 - t2;
        for (int k = 0; k < FWD.length; k++) {
            fwdKept[k] += FWD[k] - fwdBefore[k];
        }
        keptPackets += BATCH;
    }

    private static long[] forwarderStages() {
        try {
            java.lang.reflect.Field f = Class.forName("io.jnetmap.vale.Forwarder").getDeclaredField("STAGE_NS");
            f.setAccessible(true);
            return (long[]) f.get(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("the Forwarder's stage counters: " + e, e);
        }
    }

    private static void resetStages() {
        if (STAGES) {
            java.util.Arrays.fill(harness, 0);
            java.util.Arrays.fill(fwdKept, 0);
            keptPackets = 0;
            allPackets = 0;
        }
    }

    private static void printStages(String what) {
        if (!STAGES) {
            return;
        }
        long[] f = fwdKept;
        long packets = keptPackets;
        long inForward = f[0] + f[1] + f[2] + f[3] + f[4] + f[5];
        String[] names = {"user: slot fill", "txsync: ring prologue/epilogue", "forward: batch (read+decode slots)",
            "forward: lookup", "forward: lease", "forward: fill (copy/swap, dst slots)", "forward: complete/publish",
            "forward: counters", "rxsync + release"};
        double[] ns = {harness[0], harness[1] - inForward, f[0], f[1], f[2], f[3], f[4], f[5], harness[2]};
        double total = 0;
        for (int k = 0; k < names.length; k++) {
            total += ns[k];
            System.out.printf(Locale.ROOT, "stage.%s %-38s %6.2f ns%n", what, names[k], ns[k] / packets);
        }
        System.out.printf(Locale.ROOT, "stage.%s %-38s %6.2f ns (%.0f %% of the batches kept)%n", what, "total (wall)",
                total / packets, 100.0 * packets / allPackets);
    }

    private static void drain(Ring r) {
        r.sync();
        r.advanceTo(r.tail());
        r.sync();
    }

    private static void frame(MemorySegment m, long off, long dst, long src) {
        m.set(U16, off, (short) (dst >>> 32));
        m.set(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), off + 2, (int) dst);
        m.set(U16, off + 6, (short) (src >>> 32));
        m.set(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), off + 8, (int) src);
        m.set(U16, off + 12, (short) 0x88b5);
    }

    /**
     * Suite part: for copy 60 B, swap 60 B and copy 1514 B, the C reference ({@code limits vale1t}) and
     * jnetmap in turn, C J C J … ({@code rounds} each), so that both see the same machine; prints the
     * medians as {@code limit.vale.….cpu} and {@code vale.….cpu} (ns of CPU time per packet) and
     * {@code vale.….cpu.vs.c} (C's cost / jnetmap's: 1.0 = as cheap as C, like the other ….vs.c ratios).
     */
    public static void suite(boolean quick, io.jnetmap.bench.BenchMain.Results out) throws Exception {
        int rounds = quick ? 2 : 4;
        double secs = quick ? 1 : 2;
        for (String[] c : new String[][] {{"copy", "60"}, {"swap", "60"}, {"copy", "1514"}}) {
            String name = "vale." + c[0] + ".2p." + c[1] + "B.cpu";
            double[] cs = new double[rounds];
            double[] js = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                cs[r] = Double.parseDouble(io.jnetmap.bench.limit.CLimits.measure("vale1t", c[0], c[1], String.valueOf(secs)).get(0)[1]);
                js[r] = inFreshJvm(c[0], c[1], secs);
            }
            double cm = io.jnetmap.bench.BenchMain.median(cs);
            double jm = io.jnetmap.bench.BenchMain.median(js);
            out.put("limit." + name, cm, "ns");
            out.put(name, jm, "ns");
            out.put(name + ".vs.c", cm / jm, "x");
        }
    }

    /**
     * {@link #nsPerPacket} in a JVM of its own, as limits runs in a process of its own: in the suite's JVM,
     * after the other suites, the JDK's shared memory-access code carries their type profiles (heap and
     * native segments) and the copy at 60 B measured 37.8 ns where a fresh JVM gave 20.
     */
    private static double inFreshJvm(String mode, String len, double secs) throws Exception {
        String jvm = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(jvm, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                ValeCpu.class.getName(), mode, len, String.valueOf(secs)).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException("ValeCpu " + mode + " " + len + " failed: " + text);
        }
        String first = text.lines().filter(l -> l.startsWith("vale.")).findFirst()
                .orElseThrow(() -> new IllegalStateException("ValeCpu printed no figure: " + text));
        return Double.parseDouble(first.split(" ")[1]);
    }

    public static void main(String[] args) {
        if (args.length != 3 || !(args[0].equals("copy") || args[0].equals("swap"))) {
            System.err.println("usage: ValeCpu copy|swap LEN SECONDS");
            System.exit(2);
        }
        boolean swap = args[0].equals("swap");
        int len = Integer.parseInt(args[1]);
        double ns = nsPerPacket(swap, len, Double.parseDouble(args[2]));
        System.out.printf(Locale.ROOT, "vale.%s.2p.%dB.cpu %.2f ns%n", args[0], len, ns);
        System.out.printf(Locale.ROOT, "vale.%s.2p.%dB.cpu.alloc %.4f B/packet%n", args[0], len, lastAllocPerPacket);
    }
}
