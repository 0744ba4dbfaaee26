package io.jnetmap.bench.capture;

import io.jnetmap.bench.BenchMain;
import io.jnetmap.capture.PacketWriter;
import io.jnetmap.core.nic.NetLab;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The capture suite's measurements with peers (besides the filter JMH benchmarks):
 * <ul>
 *   <li>Live capture to a file: trafgen sends mixed 60-byte traffic (one frame in ten is UDP to port 9) on a
 *   veth; {@code bin/jnetmap capture -i netmap:b -w FILE} against {@code tcpdump -i b -w FILE}, each alone on
 *   the receiver CPU, writing to tmpfs. The figure is the offered rate times the share of packets the capturer
 *   kept (captured / (received + dropped)), as the nic suite reports tcpdump. Then the same with {@code udp
 *   port 9} (the kernel filter selects 10 %). Beside each rate: the capturer's CPU time per packet offered (schedstat,
 *   every thread) and its capacity, packets offered per CPU second. trafgen and the veth's delivery (the kernel filter
 *   included) run on the sender's CPU, so with the filter both capturers keep everything and their rates are equal by
 *   construction: {@code capture.live.udp9.vs.tcpdump} is therefore the capacity ratio (what filtering in the kernel
 *   is for: the 2x), {@code capture.live.udp9.rate.vs.tcpdump} the rate ratio. CPU is read once the capturer's JIT
 *   compilers went quiet (the steady state).</li>
 *   <li>Reading a file: {@code bin/jnetmap capture -r big.pcap -w /dev/null 'udp port 9'} against tcpdump's, wall
 *   time of the whole process (the launcher and the JVM's start included), in turn, on a generated file of mixed
 *   traffic (482 bytes a packet on average); the start-up (a {@code -c 1} run) and the per-packet time beside.
 *   {@code capture.read.*} reads 500k packets (4M without --quick), where the JVM's start and warm-up weigh;
 *   {@code capture.read.big.*} reads 2M packets (5M without --quick, 1-2.5 GB on /dev/shm), where the steady state
 *   does, with the CPU time (user + system) per packet of each process beside the wall-clock rate.</li>
 *   <li>{@code replay -t} from a file of 60-byte frames into a pipe: Mpps, CPU time a packet (replay and drain) and bytes
 *   allocated per packet.</li>
 * </ul>
 */
public final class CaptureSuite implements BenchMain.Suite {
    private static final int SENDER_CPU = 0;
    private static final int RECEIVER_CPU = 1;
    private static final String EXPR = "udp port 9";

    static {
        BenchMain.ratio("capture.live.vs.tcpdump", "capture.live.60B", "peer.tcpdump.capture.60B");
        // with the filter in the kernel both capturers keep all of the 10 % offered to them, so their rates are equal by
        // construction; what the filter in the kernel buys is CPU: the figure compared is the capacity (packets offered
        // per second of the capturer's CPU), the rate ratio is printed beside it
        BenchMain.ratio("capture.live.udp9.vs.tcpdump", "capture.live.capacity.udp9.60B", "peer.tcpdump.capture.capacity.udp9.60B");
        BenchMain.ratio("capture.live.udp9.rate.vs.tcpdump", "capture.live.udp9.60B", "peer.tcpdump.capture.udp9.60B");
        BenchMain.ratio("capture.read.vs.tcpdump", "capture.read.udp9", "peer.tcpdump.read.udp9");
        BenchMain.ratio("capture.read.big.vs.tcpdump", "capture.read.big.udp9", "peer.tcpdump.read.big.udp9");
        // CPU time of tcpdump over ours (user + system of each whole process) for the same big file
        BenchMain.ratio("capture.read.big.cpu.vs.tcpdump", "peer.tcpdump.read.big.cpu_per_packet", "capture.read.big.cpu_per_packet");
        BenchMain.ratio("capture.live.capacity.vs.tcpdump", "capture.live.capacity.60B", "peer.tcpdump.capture.capacity.60B");
    }

    private double warmSec;
    private double windowSec;

    @Override
    public void run(boolean quick, BenchMain.Results out) throws Exception {
        if ("replay".equals(System.getProperty("jnetmap.bench.capture.only"))) { // the replay lines alone, for a quick rerun
            replay(quick, out);
            return;
        }
        warmSec = quick ? 4.0 : 8.0; // then settle(): the capturers' CPU per packet is read once the JIT is done
        windowSec = quick ? 2.0 : 4.0;
        // bin/jnetmap builds the tools and trains its start-up cache on first use: done here, not inside a measurement
        if (!new ProcessBuilder(tool("capture", "-d", "ip")).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start().waitFor(600, TimeUnit.SECONDS)) {
            throw new IllegalStateException("bin/jnetmap did not build and start within 10 minutes");
        }
        boolean trafgen = installed("trafgen", "netsniff-ng");
        boolean tcpdump = installed("tcpdump", "tcpdump");
        if (trafgen) {
            try (NetLab lab = new NetLab()) {
                NetLab.Veth v = lab.vethPair();
                Path cfg = trafgenConfig(v.macB(), v.macA());
                try {
                    for (String expr : new String[] {null, EXPR}) {
                        String name = expr == null ? "60B" : "udp9.60B";
                        live(v, cfg, jnetmap(v, expr), "capture.live." + name, "capture.live." + (expr == null ? "" : "udp9.") + "drops", out);
                        if (tcpdump) {
                            live(v, cfg, tcpdumpLive(v, expr), "peer.tcpdump.capture." + name,
                                    "peer.tcpdump.capture." + (expr == null ? "" : "udp9.") + "drops", out);
                        }
                    }
                } finally {
                    Files.deleteIfExists(cfg);
                }
            }
        }
        Path big = Files.createTempFile(Path.of("/dev/shm"), "jnetmap-big", ".pcap");
        try {
            int n = quick ? 500_000 : 4_000_000;
            bigFile(big, n);
            read(big, n, quick ? 3 : 5, tcpdump, out, "capture.read", "peer.tcpdump.read");
        } finally {
            Files.deleteIfExists(big);
        }
        int nBig = quick ? 2_000_000 : 5_000_000;
        long free = Files.getFileStore(Path.of("/dev/shm")).getUsableSpace();
        if (free < nBig * 500L * 2) {
            System.out.println("# capture.read.big: not measured: /dev/shm has " + (free >> 20) + " MiB free (expected: twice the "
                    + (nBig * 500L >> 20) + " MiB file)");
        } else {
            Path bigger = Files.createTempFile(Path.of("/dev/shm"), "jnetmap-bigger", ".pcap");
            try {
                bigFile(bigger, nBig);
                read(bigger, nBig, quick ? 2 : 3, tcpdump, out, "capture.read.big", "peer.tcpdump.read.big");
            } finally {
                Files.deleteIfExists(bigger);
            }
        }
        replay(quick, out);
    }

    /**
     * {@code replay -t} (as fast as possible) of a file of 60-byte frames into a pipe whose other end a second thread
     * drains: packets per second of the replay thread and its CPU time a packet (thread CPU clock, its waits for a full
     * ring included; the drain's beside it), medians of three runs of three loops, and the bytes it allocates per packet
     * beyond a run's fixed cost (a run of three loops minus a run of one, over the packets between them), which must be 0.
     * On two CPUs shared with other work the rate follows the host; the CPU figures move less.
     */
    private static void replay(boolean quick, BenchMain.Results out) throws Exception {
        int n = quick ? 1_000_000 : 4_000_000;
        Path file = Files.createTempFile(Path.of("/dev/shm"), "jnetmap-replay", ".pcap");
        String parent = "brp" + ProcessHandle.current().pid();
        try (io.jnetmap.core.Port rx = io.jnetmap.core.Netmap.open(parent + "}1")) {
            List<byte[]> frames = mixed(mac("02:00:00:00:00:02"), mac("02:00:00:00:00:01"));
            try (PacketWriter w = PacketWriter.create(file, PacketWriter.Format.PCAP, 262144, List.of("replay"))) {
                for (int i = 0; i < n; i++) {
                    w.write(0, MemorySegment.ofArray(frames.get(i % frames.size())), 0, 60, 60, 1_000_000_000L + i);
                }
            }
            java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.atomic.AtomicLong received = new java.util.concurrent.atomic.AtomicLong();
            Thread drain = Thread.ofPlatform().name("replay-drain").start(() -> {
                io.jnetmap.core.Ring r = rx.rxRing(0);
                while (!done.get()) {
                    r.sync();
                    int k = r.space();
                    if (k > 0) {
                        r.advanceTo(r.head() + k >= r.numSlots() ? r.head() + k - r.numSlots() : r.head() + k);
                        received.addAndGet(k);
                    } else {
                        Thread.onSpinWait();
                    }
                }
            });
            com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
            int[] loops = {1, 3, 3, 3}; // the first also warms up; allocation from the first two, rates and CPU from the last three
            long[] alloc = new long[loops.length];
            double[] pps = new double[loops.length - 1], cpu = new double[loops.length - 1], drainCpu = new double[loops.length - 1];
            try {
                for (int k = 0; k < loops.length; k++) {
                    java.io.ByteArrayOutputStream log = new java.io.ByteArrayOutputStream();
                    long a0 = mx.getCurrentThreadAllocatedBytes();
                    long c0 = mx.getCurrentThreadCpuTime(), d0 = mx.getThreadCpuTime(drain.threadId());
                    long t0 = System.nanoTime();
                    int code = io.jnetmap.examples.Replay.run(new String[] {"-r", file.toString(), "-i", parent + "{1", "-t", "-T", "0",
                            "-l", "" + loops[k]}, new java.io.PrintStream(log, true));
                    long t = System.nanoTime() - t0;
                    long c = mx.getCurrentThreadCpuTime() - c0, d = mx.getThreadCpuTime(drain.threadId()) - d0;
                    alloc[k] = mx.getCurrentThreadAllocatedBytes() - a0;
                    if (code != 0) throw new IllegalStateException("replay failed: " + log);
                    if (k > 0) {
                        pps[k - 1] = (double) n * loops[k] / (t / 1e9);
                        cpu[k - 1] = (double) c / ((double) n * loops[k]);
                        drainCpu[k - 1] = (double) d / ((double) n * loops[k]);
                    }
                    System.out.println("# " + log.toString().strip().replace('\n', ' '));
                }
            } finally {
                done.set(true);
                drain.join();
            }
            out.put("capture.replay.60B", median(pps) / 1e6, "Mpps");
            // CPU of the replay thread a packet (its waits for a full ring included) and of the draining thread's spin
            out.put("capture.replay.60B.cpu_per_packet", median(cpu), "ns");
            out.put("capture.replay.60B.drain_cpu_per_packet", median(drainCpu), "ns");
            out.put("capture.replay.alloc", Math.max(0, alloc[1] - alloc[0]) / (2.0 * n), "B/op");
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /**
     * {@code bin/jnetmap capture -r big.pcap -w /dev/null 'udp port 9'} against tcpdump's, whole processes (the
     * launcher and the JVM's start included, as a user runs them), in turn: jnetmap, tcpdump, jnetmap, … {@code rounds}
     * times after one warm-up each (which also trains the launcher's start-up cache if the jars are new). The medians
     * give the rates; the start-up is the median of {@code -c 1} runs (the time to the first packet and out), and the
     * per-packet time is what the whole run takes beyond it.
     */
    private static void read(Path big, int n, int rounds, boolean tcpdump, BenchMain.Results out, String ourName, String theirName)
            throws Exception {
        List<String> ours = tool("capture", "-r", big.toString(), "-w", "/dev/null", EXPR);
        List<String> oursFirst = tool("capture", "-c", "1", "-r", big.toString(), "-w", "/dev/null", EXPR);
        List<String> theirs = List.of("tcpdump", "-r", big.toString(), "-w", "/dev/null", EXPR);
        List<String> theirsFirst = List.of("tcpdump", "-c", "1", "-r", big.toString(), "-w", "/dev/null", EXPR);
        seconds(ours);
        if (tcpdump) seconds(theirs);
        double[] a = new double[rounds], b = new double[rounds], a1 = new double[rounds], b1 = new double[rounds];
        double[] ac = new double[rounds], bc = new double[rounds];
        for (int i = 0; i < rounds; i++) {
            double c0 = childCpuSeconds();
            a[i] = seconds(ours);
            ac[i] = childCpuSeconds() - c0;
            a1[i] = seconds(oursFirst);
            if (tcpdump) {
                c0 = childCpuSeconds();
                b[i] = seconds(theirs);
                bc[i] = childCpuSeconds() - c0;
                b1[i] = seconds(theirsFirst);
            }
        }
        double ta = median(a), ta1 = median(a1);
        System.out.println("# " + ourName + ": a file of " + n + " packets, " + (Files.size(big) >> 20) + " MiB (" + Files.size(big) / n
                + " bytes each on average), " + rounds + " rounds in turn with tcpdump; jnetmap runs " + java.util.Arrays.toString(a)
                + " s, CPU " + java.util.Arrays.toString(ac) + " s");
        out.put(ourName + ".udp9", n / 1e6 / ta, "Mpps");
        out.put(ourName + ".startup", ta1 * 1e3, "ms");
        out.put(ourName + ".per_packet", Math.max(0, ta - ta1) * 1e9 / n, "ns");
        out.put(ourName + ".cpu_per_packet", median(ac) * 1e9 / n, "ns");
        if (tcpdump) {
            double tb = median(b), tb1 = median(b1);
            System.out.println("# " + theirName + ": runs " + java.util.Arrays.toString(b) + " s, CPU " + java.util.Arrays.toString(bc) + " s");
            out.put(theirName + ".udp9", n / 1e6 / tb, "Mpps");
            out.put(theirName + ".startup", tb1 * 1e3, "ms");
            out.put(theirName + ".per_packet", Math.max(0, tb - tb1) * 1e9 / n, "ns");
            out.put(theirName + ".cpu_per_packet", median(bc) * 1e9 / n, "ns");
        }
    }

    /** User + system seconds of this process's children that have been waited for (cutime + cstime of /proc/self/stat). */
    private static double childCpuSeconds() throws IOException {
        String stat = Files.readString(Path.of("/proc/self/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[13]) + Long.parseLong(f[14])) / 100.0; // fields 16 and 17; USER_HZ is 100 on Linux
    }

    private static double median(double[] v) {
        double[] c = v.clone();
        java.util.Arrays.sort(c);
        return c.length % 2 == 1 ? c[c.length / 2] : (c[c.length / 2 - 1] + c[c.length / 2]) / 2;
    }

    /** {@code bin/jnetmap TOOL ARGS}: the launcher users run (its start-up cache included). */
    private static List<String> tool(String... args) {
        List<String> cmd = new ArrayList<>(List.of(System.getProperty("jnetmap.root", ".") + "/bin/jnetmap"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** A capturer to start: its command line and the file it writes. */
    private record Capturer(List<String> cmd, Path file, String ready) {
    }

    private Capturer jnetmap(NetLab.Veth v, String expr) throws IOException {
        Path f = Files.createTempFile(Path.of("/dev/shm"), "jnetmap-cap", ".pcap");
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", v.nsB(), "taskset", "-c", "" + RECEIVER_CPU));
        cmd.addAll(tool("capture", "-i", "netmap:" + v.b(), "-w", f.toString()));
        if (expr != null) cmd.add(expr);
        return new Capturer(cmd, f, "listening on");
    }

    private Capturer tcpdumpLive(NetLab.Veth v, String expr) throws IOException {
        Path f = Files.createTempFile(Path.of("/dev/shm"), "jnetmap-tcpdump", ".pcap");
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", v.nsB(), "taskset", "-c", "" + RECEIVER_CPU,
                "tcpdump", "-i", v.b(), "-w", f.toString(), "-B", "65536", "-n", "-Z", "root"));
        if (expr != null) cmd.add(expr);
        return new Capturer(cmd, f, "listening on");
    }

    private void live(NetLab.Veth v, Path cfg, Capturer c, String name, String dropsName, BenchMain.Results out) throws Exception {
        Path log = Files.createTempFile("jnetmap-capture", ".txt");
        Process cap = new ProcessBuilder(c.cmd()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Process tg = null;
        double offered, cpuSec;
        long windowPackets;
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.readString(log).contains(c.ready())) {
                if (!cap.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException(name + ": the capturer did not start: " + Files.readString(log));
                }
                Thread.sleep(20);
            }
            tg = trafgen(v.nsA(), v.a(), cfg);
            Thread.sleep((long) (warmSec * 1000));
            settle(cap, name);
            long c0 = NetLab.counter(v.nsB(), v.b(), "rx_packets");
            long cpu0 = cpuNanos(cap);
            long t0 = System.nanoTime();
            Thread.sleep((long) (windowSec * 1000));
            long c1 = NetLab.counter(v.nsB(), v.b(), "rx_packets");
            cpuSec = (cpuNanos(cap) - cpu0) / 1e9;
            windowPackets = c1 - c0;
            offered = (c1 - c0) * 1e3 / (System.nanoTime() - t0);
        } finally {
            if (tg != null) stop(tg);
            Thread.sleep(300);
            stop(cap);
            Files.deleteIfExists(c.file());
        }
        String text = Files.readString(log);
        Files.deleteIfExists(log);
        long captured = number(text, "(\\d+) packets? captured");
        long received = number(text, "(\\d+) packets? received by filter");
        long dropped = number(text, "(\\d+) packets? dropped by kernel");
        if (captured < 0 || received <= 0) {
            System.out.println("# " + name + ": the capturer said: " + text.strip().replace('\n', ' '));
            return;
        }
        // "received by filter" counts what passed the filter, the kernel's drops included (both tools)
        System.out.println("# " + name + ": " + captured + " captured, " + received + " received by filter, " + dropped + " dropped by kernel");
        out.put(name, offered * captured / (double) received, "Mpps");
        out.put(dropsName, Math.max(0, dropped), "packets");
        // trafgen and the veth's delivery (filter included) share the sender's CPU, which is the bottleneck: both capturers
        // keep everything, so the rate above cannot tell them apart. What can: the capturer's own CPU time per packet
        // offered, and the rate it would keep with a whole CPU (packets offered / its CPU seconds).
        if (cpuSec > 0 && windowPackets > 0) {
            System.out.printf(Locale.ROOT, "# %s: %.1f ms of CPU for %d packets offered in %.1f s (capacity = packets offered / CPU seconds: the rate with a whole CPU)%n",
                    name, cpuSec * 1e3, windowPackets, windowSec);
            out.put(name.replace(".capture.", ".capture.cpu.").replace("capture.live.", "capture.live.cpu."),
                    cpuSec * 1e9 / windowPackets, "ns/packet");
            out.put(name.replace(".capture.", ".capture.capacity.").replace("capture.live.", "capture.live.capacity."),
                    windowPackets / cpuSec / 1e6, "Mpps");
        }
    }

    /**
     * Waits until the capturer's JIT compiler threads have been idle for a second (at most 30 s more): at 10 % of a few
     * hundred kpps a JVM still compiles its capture loop 15 s in, and one C2 compilation in a 2 s window costs more than
     * the packets. The figures are the steady state, as tcpdump's are from the start; the wait is printed.
     */
    private static void settle(Process p, String name) throws InterruptedException {
        long t0 = System.nanoTime();
        long last = jitNanos(p);
        while (System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(30)) {
            Thread.sleep(1000);
            long now = jitNanos(p);
            if (now - last < 1_000_000) {
                break;
            }
            last = now;
        }
        long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        if (waited > 1500) {
            System.out.println("# " + name + ": waited " + waited + " ms more for the JIT compilers to go quiet");
        }
    }

    /** CPU time of the JIT compiler threads ("C1 CompilerThre…", "C2 CompilerThre…") of {@code p} and its descendants. */
    private static long jitNanos(Process p) {
        return threadNanos(p, true);
    }

    /**
     * Nanoseconds on a CPU of every thread of {@code p} and its descendants (ip netns exec, taskset and the launcher may
     * sit in between): the first field of /proc/PID/task/TID/schedstat. Not /proc/PID/stat's utime and stime, whose
     * 10 ms ticks are coarser than a filtered capturer's whole CPU time in a window (tcpdump: ~20 ms in 2 s).
     */
    private static long cpuNanos(Process p) {
        return threadNanos(p, false);
    }

    /** schedstat's CPU nanoseconds summed over the threads of {@code p} and its descendants (only the JIT's, if {@code jitOnly}). */
    private static long threadNanos(Process p, boolean jitOnly) {
        long sum = 0;
        List<ProcessHandle> all = new ArrayList<>();
        all.add(p.toHandle());
        p.descendants().forEach(all::add);
        for (ProcessHandle h : all) {
            try (var tasks = Files.list(Path.of("/proc/" + h.pid() + "/task"))) {
                for (Path t : tasks.toList()) {
                    try {
                        if (jitOnly && !Files.readString(t.resolve("comm")).contains("CompilerThre")) continue;
                        String st = Files.readString(t.resolve("schedstat"));
                        sum += Long.parseLong(st.substring(0, st.indexOf(' ')));
                    } catch (IOException | RuntimeException gone) {
                        // the thread ended in between
                    }
                }
            } catch (IOException | RuntimeException gone) {
                // ended in between
            }
        }
        return sum;
    }

    private static double seconds(List<String> cmd) throws Exception {
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IllegalStateException(cmd + " failed (exit " + (p.isAlive() ? "none" : p.exitValue()) + ")");
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    /** Ten 60-byte frames: one UDP to port 9, the others TCP to 80/443, UDP to 53/123, ICMP, ARP. */
    static List<byte[]> mixed(byte[] dst, byte[] src) {
        List<byte[]> frames = new ArrayList<>();
        int[][] kinds = {{17, 9}, {6, 80}, {6, 443}, {17, 53}, {6, 22}, {17, 123}, {1, 0}, {6, 8080}, {0, 0}, {17, 5353}};
        for (int[] k : kinds) {
            byte[] f = new byte[60];
            System.arraycopy(dst, 0, f, 0, 6);
            System.arraycopy(src, 0, f, 6, 6);
            if (k[0] == 0) { // ARP request
                f[12] = 0x08;
                f[13] = 0x06;
                f[15] = 1;
                f[16] = 0x08;
                f[18] = 6;
                f[19] = 4;
                f[21] = 1;
                frames.add(f);
                continue;
            }
            f[12] = 0x08;
            f[14] = 0x45;
            f[17] = 46; // total length: 60 - 14
            f[22] = 64;
            f[23] = (byte) k[0];
            f[26] = 10;
            f[29] = 1;
            f[30] = 10;
            f[33] = 2;
            int sum = 0;
            for (int i = 14; i < 34; i += 2) sum += (f[i] & 0xff) << 8 | f[i + 1] & 0xff;
            while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
            f[24] = (byte) (~sum >> 8);
            f[25] = (byte) ~sum;
            if (k[0] != 1) {
                f[34] = 0x30;
                f[35] = 0x39;
                f[36] = (byte) (k[1] >> 8);
                f[37] = (byte) k[1];
                if (k[0] == 17) f[39] = 26; else f[46] = 0x50;
            } else {
                f[34] = 8; // echo request
            }
            frames.add(f);
        }
        return frames;
    }

    private static Path trafgenConfig(String dstMac, String srcMac) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (byte[] f : mixed(mac(dstMac), mac(srcMac))) {
            sb.append("{ ");
            for (int i = 0; i < f.length; i++) sb.append(String.format(Locale.ROOT, "0x%02x%s", f[i] & 0xff, i + 1 < f.length ? ", " : " }\n"));
        }
        Path cfg = Files.createTempFile("jnetmap-trafgen", ".cfg");
        Files.writeString(cfg, sb.toString());
        return cfg;
    }

    private static byte[] mac(String s) {
        String[] p = s.split(":");
        byte[] b = new byte[6];
        for (int i = 0; i < 6; i++) b[i] = (byte) Integer.parseInt(p[i], 16);
        return b;
    }

    /**
     * {@code n} packets of mixed traffic, a microsecond apart, 482 bytes on average: TCP to 80 and 443 (40 % pure
     * ACKs, 30 % full 1460-byte segments, 30 % 40-640 bytes), IPv6 TCP, a VLAN-tagged flow, DNS, NTP, mDNS, ICMP, ARP,
     * and one packet in ten UDP to port 9 (18-518 bytes of payload), from 1,400 source and 30 destination addresses.
     */
    static void bigFile(Path file, int n) throws IOException {
        java.util.Random rnd = new java.util.Random(42);
        byte[] f = new byte[1518];
        MemorySegment s = MemorySegment.ofArray(f);
        try (PacketWriter w = PacketWriter.create(file, PacketWriter.Format.PCAP_MICRO, 262144, List.of("big"))) {
            long ts = 1_700_000_000_000_000_000L;
            for (int i = 0; i < n; i++) {
                int len = realistic(f, i, rnd);
                w.write(0, s, 0, len, len, ts + i * 1000L);
            }
        }
    }

    /** Packet {@code i} of {@link #bigFile} into {@code f}; returns its length. */
    private static int realistic(byte[] f, int i, java.util.Random rnd) {
        java.util.Arrays.fill(f, 0, 80, (byte) 0);
        int kind = i % 20;
        f[0] = 2;
        f[5] = 2;
        f[6] = 2;
        f[11] = (byte) (1 + (i & 7));
        int o = 12;
        if (kind == 17) { // 802.1Q, VLAN 100
            f[12] = (byte) 0x81;
            f[15] = 100;
            o = 16;
        }
        if (kind == 16) { // ARP request
            f[o] = 8;
            f[o + 1] = 6;
            f[o + 3] = 1;
            f[o + 4] = 8;
            f[o + 6] = 6;
            f[o + 7] = 4;
            f[o + 9] = 1;
            return 60;
        }
        if (kind == 15) { // IPv6 TCP to 443
            f[o] = (byte) 0x86;
            f[o + 1] = (byte) 0xdd;
            int ip = o + 2, pl = (i & 1) == 0 ? 20 : 1220;
            f[ip] = 0x60;
            f[ip + 4] = (byte) (pl >> 8);
            f[ip + 5] = (byte) pl;
            f[ip + 6] = 6;
            f[ip + 7] = 64;
            f[ip + 8] = 0x20;
            f[ip + 9] = 1;
            f[ip + 23] = (byte) (i % 50);
            f[ip + 24] = 0x20;
            f[ip + 25] = 1;
            f[ip + 39] = 2;
            int t = ip + 40;
            ports(f, t, 40000 + i % 1000, 443);
            f[t + 12] = 0x50;
            f[t + 13] = 0x10;
            return t + pl;
        }
        f[o] = 8;
        int ip = o + 2;
        f[ip] = 0x45;
        f[ip + 8] = 64;
        f[ip + 12] = 10;
        f[ip + 13] = 1;
        f[ip + 14] = (byte) (i % 7);
        f[ip + 15] = (byte) (1 + i % 200);
        f[ip + 16] = 10;
        f[ip + 17] = 2;
        f[ip + 19] = (byte) (1 + i % 30);
        int l4 = ip + 20, proto, pay;
        switch (kind) {
            case 0, 10 -> {
                proto = 17;
                ports(f, l4, 30000 + i % 5000, 9);
                pay = 18 + rnd.nextInt(500);
            }
            case 7 -> {
                proto = 17;
                ports(f, l4, 30000 + i % 5000, 53);
                pay = 30 + rnd.nextInt(60);
            }
            case 8 -> {
                proto = 17;
                ports(f, l4, 123, 123);
                pay = 48;
            }
            case 18 -> {
                proto = 17;
                ports(f, l4, 5353, 5353);
                pay = 100 + rnd.nextInt(200);
            }
            case 9 -> {
                proto = 1;
                f[l4] = 8;
                pay = 56;
            }
            default -> {
                proto = 6;
                ports(f, l4, 50000 + i % 3000, kind >= 11 && kind <= 14 ? 443 : 80);
                f[l4 + 12] = 0x50;
                int r = rnd.nextInt(10);
                f[l4 + 13] = (byte) (r < 4 ? 0x10 : 0x18);
                pay = r < 4 ? 0 : r < 7 ? 1460 : 40 + rnd.nextInt(600);
            }
        }
        int iplen = 20 + (proto == 6 ? 20 : 8) + pay;
        f[ip + 2] = (byte) (iplen >> 8);
        f[ip + 3] = (byte) iplen;
        f[ip + 9] = (byte) proto;
        if (proto == 17) {
            f[l4 + 4] = (byte) ((8 + pay) >> 8);
            f[l4 + 5] = (byte) (8 + pay);
        }
        return Math.max(60, ip + iplen);
    }

    private static void ports(byte[] f, int o, int src, int dst) {
        f[o] = (byte) (src >> 8);
        f[o + 1] = (byte) src;
        f[o + 2] = (byte) (dst >> 8);
        f[o + 3] = (byte) dst;
    }

    private static Process trafgen(String ns, String dev, Path cfg) throws IOException {
        return new ProcessBuilder("ip", "netns", "exec", ns, "taskset", "-c", "" + SENDER_CPU, "trafgen", "-o", dev,
                "-i", cfg.toString(), "-P", "1", "-Q", "-q").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    private static void stop(Process p) throws InterruptedException {
        p.destroy();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
    }

    private static boolean installed(String tool, String pkg) {
        for (String dir : List.of("/usr/sbin", "/usr/bin", "/sbin", "/bin")) {
            if (Files.isExecutable(Path.of(dir, tool))) return true;
        }
        System.out.println("# peer " + tool + " not installed (apt-get install " + pkg + "): its figures are left out");
        return false;
    }

    private static long number(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }
}
