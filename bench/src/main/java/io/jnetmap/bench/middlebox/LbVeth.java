package io.jnetmap.bench.middlebox;

import io.jnetmap.bench.BenchMain;
import io.jnetmap.core.nic.NetLab;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * lb against the kernel's own software RSS on a veth, the same traffic for both: trafgen sends 60-byte
 * UDP frames of 65,536 flows (random source address byte, incrementing source port byte) into one end;
 * on the other end either
 * <ul>
 *   <li>{@code lb -i netmap:B -p N:4} with 4 consumer processes ({@code pkt-gen -f rx} on {@code N}}K}):
 *   the figure is what lb put on the 4 pipes per second (its JSON counters over the window; a pipe whose
 *   consumer falls behind makes lb drop, which is not counted), or</li>
 *   <li>{@code bench/c/fanout.c}: 4 processes with an AF_PACKET socket each in one
 *   {@code PACKET_FANOUT_HASH} group, receiving with {@code recvmmsg}: what they received per second.</li>
 * </ul>
 * Both share the machine's CPUs with trafgen, which is pinned to CPU 0.
 */
final class LbVeth {
    private static final Pattern FORWARDED = Pattern.compile("\"forwarded\":(\\d+)");
    private static final Pattern TS = Pattern.compile("\"ts\":([0-9.]+)");

    private LbVeth() {
    }

    static void run(boolean quick, BenchMain.Results out) throws Exception {
        if (!installed("trafgen")) {
            System.out.println("# lb.veth: trafgen not installed (apt-get install netsniff-ng): left out");
            return;
        }
        double warm = quick ? 1.5 : 3;
        double window = quick ? 2 : 6;
        Path fanout = buildFanout();
        try (NetLab lab = new NetLab()) {
            NetLab.Veth v = lab.vethPair();
            Path cfg = trafgenConfig(v.macB(), v.macA());
            try {
                lb(v, cfg, warm, window, out);
                peer(v, cfg, fanout, warm, window, out);
            } finally {
                Files.deleteIfExists(cfg);
            }
        }
    }

    private static void lb(NetLab.Veth v, Path cfg, double warm, double window, BenchMain.Results out) throws Exception {
        String group = "lbv" + ProcessHandle.current().pid();
        List<Proc> procs = new ArrayList<>();
        Process tg = null;
        try {
            List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", v.nsB()));
            cmd.addAll(javaCmd("lb", "-i", "netmap:" + v.b(), "-p", group + ":4", "-B", "8192", "-o", "1"));
            Proc lb = new Proc(cmd, "lb: ");
            procs.add(lb);
            lb.await();
            for (int k = 0; k < 4; k++) {
                Proc c = new Proc(javaCmd("pkt-gen", "-i", group + "}" + k, "-f", "rx"), "pkt-gen: ");
                procs.add(c);
            }
            for (Proc c : procs) {
                c.await();
            }
            tg = trafgen(v, cfg);
            long start = System.currentTimeMillis();
            offered("lb.veth.4consumers", v, warm, window);
            Thread.sleep(1100); // lb prints each second: one line past the window
            double from = start / 1000.0 + warm;
            double to = from + window;
            double[] first = null;
            double[] last = null;
            for (String line : lb.lines) {
                Matcher t = TS.matcher(line);
                if (!t.find()) {
                    continue;
                }
                double ts = Double.parseDouble(t.group(1));
                long sum = 0;
                Matcher f = FORWARDED.matcher(line);
                while (f.find()) {
                    sum += Long.parseLong(f.group(1));
                }
                if (ts >= from && first == null) {
                    first = new double[] {ts, sum};
                }
                if (ts <= to + 1) {
                    last = new double[] {ts, sum};
                }
            }
            if (first == null || last == null || last[0] <= first[0]) {
                System.out.println("# lb.veth.4consumers: no counters from lb in the window: " + String.join(" | ", lb.lines));
                return;
            }
            out.put("lb.veth.4consumers", (last[1] - first[1]) / (last[0] - first[0]) / 1e6, "Mpps");
        } finally {
            if (tg != null) {
                stop(tg);
            }
            for (int i = procs.size() - 1; i >= 0; i--) {
                stop(procs.get(i).process);
            }
        }
    }

    private static void peer(NetLab.Veth v, Path cfg, Path fanout, double warm, double window, BenchMain.Results out) throws Exception {
        Process tg = trafgen(v, cfg);
        try {
            Process p = new ProcessBuilder("ip", "netns", "exec", v.nsB(), fanout.toString(), v.b(), "4", String.valueOf(warm),
                    String.valueOf(window)).redirectErrorStream(true).start();
            offered("peer.fanout.4consumers", v, warm, window);
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor((long) (warm + window) + 30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                System.out.println("# peer.fanout.4consumers: fanout failed: " + text.strip().replace('\n', ' '));
                return;
            }
            for (String line : text.split("\n")) {
                String[] w = line.trim().split("\\s+");
                if (w.length == 3 && w[0].startsWith("peer.fanout.")) {
                    out.put(w[0], Double.parseDouble(w[1]), w[2]);
                } else if (line.startsWith("#")) {
                    System.out.println("# peer.fanout.4consumers " + line.substring(1).trim());
                }
            }
        } finally {
            stop(tg);
        }
    }

    /** Sleeps {@code warm} seconds, then prints what B received per second over the next {@code window} seconds. */
    private static void offered(String name, NetLab.Veth v, double warm, double window) throws InterruptedException {
        Thread.sleep((long) (warm * 1000));
        long c0 = NetLab.counter(v.nsB(), v.b(), "rx_packets");
        long t0 = System.nanoTime();
        Thread.sleep((long) (window * 1000));
        long c1 = NetLab.counter(v.nsB(), v.b(), "rx_packets");
        System.out.printf(java.util.Locale.ROOT, "# %s: trafgen offered %.3f Mpps (rx_packets of %s)%n", name,
                (c1 - c0) * 1e3 / (System.nanoTime() - t0), v.b());
    }

    /** A tool process whose output lines are kept; {@link #await} waits for the line that says it runs. */
    private static final class Proc {
        final Process process;
        final List<String> lines = new CopyOnWriteArrayList<>();
        private final String ready;

        Proc(List<String> cmd, String ready) throws IOException {
            this.ready = ready;
            process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            Thread.ofPlatform().daemon().start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        lines.add(line);
                    }
                } catch (IOException e) {
                    lines.add(e.toString());
                }
            });
        }

        void await() throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (lines.stream().noneMatch(l -> l.startsWith(ready))) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("lb.veth: " + ready.trim() + " did not start: " + String.join(" | ", lines));
                }
                Thread.sleep(20);
            }
        }
    }

    /**
     * 60-byte IPv4/UDP frames, B's MAC as destination: source address 10.0.0.X with X random, source port
     * 0x30YY with YY counting up (65,536 flows), IP checksum computed by trafgen.
     */
    private static Path trafgenConfig(String dstMac, String srcMac) throws IOException {
        StringBuilder sb = new StringBuilder("{ ");
        for (String m : new String[] {dstMac, srcMac}) {
            for (String b : m.split(":")) {
                sb.append("0x").append(b).append(", ");
            }
        }
        sb.append("0x08, 0x00, 0x45, 0x00, 0x00, 0x2e, 0x00, 0x00, 0x00, 0x00, 0x40, 0x11, csumip(14, 33), ");
        sb.append("10, 0, 0, drnd(), 10, 0, 0, 2, 0x30, dinc(0, 255), 0x00, 0x09, 0x00, 0x1a, 0x00, 0x00");
        for (int i = 42; i < 60; i++) {
            sb.append(", 0");
        }
        sb.append(" }\n");
        Path cfg = Files.createTempFile("jnetmap-lbveth", ".cfg");
        Files.writeString(cfg, sb.toString());
        return cfg;
    }

    private static Process trafgen(NetLab.Veth v, Path cfg) throws IOException {
        return new ProcessBuilder("ip", "netns", "exec", v.nsA(), "taskset", "-c", "0", "trafgen", "-o", v.a(),
                "-i", cfg.toString(), "-P", "1", "-q").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    private static List<String> javaCmd(String... args) {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC", "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                "io.jnetmap.examples.Main"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static void stop(Process p) throws InterruptedException {
        p.destroy();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
    }

    private static boolean installed(String tool) {
        for (String dir : List.of("/usr/sbin", "/usr/bin", "/sbin", "/bin")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    /** Compiles {@code bench/c/fanout.c} with gcc -O2 if the binary is missing or older than the source. */
    private static Path buildFanout() throws IOException, InterruptedException {
        String r = System.getProperty("jnetmap.root");
        Path root = r != null ? Path.of(r) : Path.of(".").toAbsolutePath();
        Path src = root.resolve("bench/c/fanout.c");
        if (!Files.isRegularFile(src)) {
            throw new IOException("lb.veth: " + src + " not found (set -Djnetmap.root, as bench/run does)");
        }
        Path exe = root.resolve("bench/target/c/fanout");
        if (!Files.isExecutable(exe) || Files.getLastModifiedTime(exe).compareTo(Files.getLastModifiedTime(src)) < 0) {
            Files.createDirectories(exe.getParent());
            Process p = new ProcessBuilder("gcc", "-O2", "-o", exe.toString(), src.toString()).redirectErrorStream(true).start();
            String msg = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IOException("gcc failed on " + src + ":\n" + msg);
            }
        }
        return exe;
    }
}
