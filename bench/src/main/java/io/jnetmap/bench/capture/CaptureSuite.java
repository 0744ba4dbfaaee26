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
 *   port 9} (the kernel filter selects 10 %).</li>
 *   <li>Reading a file: {@code capture -r big.pcap -w /dev/null 'udp port 9'} against tcpdump's, wall time of
 *   the whole process (the JVM's start included), on a generated file.</li>
 * </ul>
 */
public final class CaptureSuite implements BenchMain.Suite {
    private static final int SENDER_CPU = 0;
    private static final int RECEIVER_CPU = 1;
    private static final String EXPR = "udp port 9";

    static {
        BenchMain.ratio("capture.live.vs.tcpdump", "capture.live.60B", "peer.tcpdump.capture.60B");
        BenchMain.ratio("capture.live.udp9.vs.tcpdump", "capture.live.udp9.60B", "peer.tcpdump.capture.udp9.60B");
        BenchMain.ratio("capture.read.vs.tcpdump", "capture.read.udp9", "peer.tcpdump.read.udp9");
    }

    private double warmSec;
    private double windowSec;

    @Override
    public void run(boolean quick, BenchMain.Results out) throws Exception {
        warmSec = quick ? 1.0 : 2.0;
        windowSec = quick ? 1.5 : 4.0;
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
            out.put("capture.read.udp9", n / 1e6 / seconds(javaCmd("capture", "-r", big.toString(), "-w", "/dev/null", EXPR)), "Mpps");
            if (tcpdump) {
                out.put("peer.tcpdump.read.udp9", n / 1e6 / seconds(List.of("tcpdump", "-r", big.toString(), "-w", "/dev/null", EXPR)), "Mpps");
            }
        } finally {
            Files.deleteIfExists(big);
        }
    }

    /** A capturer to start: its command line and the file it writes. */
    private record Capturer(List<String> cmd, Path file, String ready) {
    }

    private Capturer jnetmap(NetLab.Veth v, String expr) throws IOException {
        Path f = Files.createTempFile(Path.of("/dev/shm"), "jnetmap-cap", ".pcap");
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", v.nsB(), "taskset", "-c", "" + RECEIVER_CPU));
        cmd.addAll(javaCmd("capture", "-i", "netmap:" + v.b(), "-w", f.toString()));
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
        double offered;
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
            long c0 = NetLab.counter(v.nsB(), v.b(), "rx_packets");
            long t0 = System.nanoTime();
            Thread.sleep((long) (windowSec * 1000));
            long c1 = NetLab.counter(v.nsB(), v.b(), "rx_packets");
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

    private static List<String> javaCmd(String... args) {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC", "-cp", System.getProperty("java.class.path"),
                "io.jnetmap.examples.Main"));
        cmd.addAll(List.of(args));
        return cmd;
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

    /** {@code n} packets of the mixed traffic, a microsecond apart. */
    private static void bigFile(Path file, int n) throws IOException {
        List<byte[]> frames = mixed(mac("02:00:00:00:00:02"), mac("02:00:00:00:00:01"));
        MemorySegment[] segs = frames.stream().map(MemorySegment::ofArray).toArray(MemorySegment[]::new);
        try (PacketWriter w = PacketWriter.create(file, PacketWriter.Format.PCAP_MICRO, 262144, List.of("big"))) {
            long ts = 1_700_000_000_000_000_000L;
            for (int i = 0; i < n; i++) {
                w.write(0, segs[i % segs.length], 0, 60, 60, ts + i * 1000L);
            }
        }
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
