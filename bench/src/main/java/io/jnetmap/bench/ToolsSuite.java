package io.jnetmap.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code bench/run tools}: the tools as a user runs them ({@code bin/jnetmap}, its JVM flags), each in a
 * process of its own, on pipes: their rate and their memory.
 *
 * <ul>
 *   <li>{@code pipe.pktgen.60B}: pkt-gen tx into one end of a pipe, pkt-gen rx on the other (two
 *       processes), Mpps received (the median of the receiver's reports after warm-up); beside
 *       {@code pipe.xproc.60B} when the pipe suite ran too ({@code pipe.pktgen.vs.xproc}); and the CPU
 *       time of each process over the packets of the same window ({@code pipe.pktgen.60B.tx.cpu},
 *       {@code ….rx.cpu}, ns per packet: busy-waiting included, so near 1/rate while both spin).</li>
 *   <li>{@code pipe.pktgen.cpu.*}: CPU time per packet of pkt-gen's loops against the bare loops of
 *       {@code pipe.xproc}, alternated in one JVM ({@link PktGenCpu}).</li>
 *   <li>{@code ….rss}: resident memory of each process beyond the mapped regions (VmRSS minus the
 *       shared-memory pages, RssShmem), in MB, sampled while packets flow: {@code pktgen.tx.rss},
 *       {@code pktgen.rx.rss}, {@code bridge.rss} (bridge between two pipes, pkt-gen on both sides),
 *       {@code capture.rss} (capture of a pipe end to /dev/null). The regions are reported apart
 *       ({@code ….region}, MB): they are the packets, as netmap's are.</li>
 * </ul>
 */
public final class ToolsSuite {
    private static final Pattern RATE = Pattern.compile("\\s([0-9.]+) (K|M)pps");
    private static final Pattern PKTS = Pattern.compile("\\s(\\d+) pkts");

    private ToolsSuite() {
    }

    public static void run(boolean quick, BenchMain.Results out) throws Exception {
        BenchMain.ratio("pipe.pktgen.vs.xproc", "pipe.pktgen.60B", "pipe.xproc.60B");
        PktGenCpu.run(quick, out); // pkt-gen's loops against pipe.xproc's, CPU per packet, in one JVM
        long warm = quick ? 5_000 : 8_000;
        long measure = quick ? 3_000 : 8_000;
        String p = "bt" + ProcessHandle.current().pid();
        try (Tool build = Tool.start("--version")) { // builds the tools once, before several processes would
            if (!build.process.waitFor(10, TimeUnit.MINUTES) || build.process.exitValue() != 0) {
                throw new IllegalStateException("bin/jnetmap --version failed: " + String.join("\n", build.lines()));
            }
        }
        // pkt-gen -> pkt-gen
        try (Tool rx = Tool.start("pkt-gen", "-i", p + "a}1", "-f", "rx", "-T", "500");
             Tool tx = Tool.start("pkt-gen", "-i", p + "a{1", "-f", "tx", "-T", "0")) {
            rx.awaitOutput("pps", 60_000);
            Thread.sleep(warm);
            int skip = rx.lines().size();
            sampleRss(out, "pktgen.tx", tx);
            sampleRss(out, "pktgen.rx", rx);
            long txCpu = cpuNanos(tx);
            long rxCpu = cpuNanos(rx);
            Thread.sleep(measure);
            txCpu = cpuNanos(tx) - txCpu;
            rxCpu = cpuNanos(rx) - rxCpu;
            List<Double> rates = new ArrayList<>();
            long packets = 0;
            List<String> lines = rx.lines();
            for (String l : lines.subList(Math.min(skip, lines.size()), lines.size())) {
                Matcher m = RATE.matcher(l);
                if (m.find()) {
                    rates.add(Double.parseDouble(m.group(1)) * (m.group(2).equals("K") ? 1e-3 : 1));
                }
                Matcher pk = PKTS.matcher(l);
                if (pk.find()) {
                    packets += Long.parseLong(pk.group(1));
                }
            }
            if (rates.isEmpty() || packets == 0) {
                throw new IllegalStateException("pkt-gen rx reported nothing: " + String.join("\n", lines));
            }
            out.put("pipe.pktgen.60B", BenchMain.median(rates.stream().mapToDouble(Double::doubleValue).toArray()), "Mpps");
            // CPU time of each process (every thread, waiting included) over the packets of the same window
            out.put("pipe.pktgen.60B.tx.cpu", (double) txCpu / packets, "ns");
            out.put("pipe.pktgen.60B.rx.cpu", (double) rxCpu / packets, "ns");
        }
        // pkt-gen -> bridge -> pkt-gen
        try (Tool rx = Tool.start("pkt-gen", "-i", p + "c{1", "-f", "rx", "-T", "500");
             Tool br = Tool.start("bridge", "-i", p + "b}1", "-i", p + "c}1");
             Tool tx = Tool.start("pkt-gen", "-i", p + "b{1", "-f", "tx", "-T", "0")) {
            rx.awaitOutput("pps", 60_000);
            Thread.sleep(warm);
            sampleRss(out, "bridge", br);
        }
        // pkt-gen -> capture
        try (Tool cap = Tool.start("capture", "-i", p + "d}1", "-w", "/dev/null");
             Tool tx = Tool.start("pkt-gen", "-i", p + "d{1", "-f", "tx", "-T", "500")) {
            tx.awaitOutput("pps", 60_000);
            Thread.sleep(warm);
            sampleRss(out, "capture", cap);
        }
    }

    /** {@code <name>.rss}: MB resident beyond the mapped regions; {@code <name>.region}: the regions' MB. */
    static void sampleRss(BenchMain.Results out, String name, Tool t) throws IOException {
        if (!t.process.isAlive()) {
            throw new IllegalStateException(name + " exited: " + String.join("\n", t.lines()));
        }
        String status = Files.readString(Path.of("/proc/" + t.process.pid() + "/status"));
        long rss = kb(status, "VmRSS");
        long shmem = kb(status, "RssShmem");
        out.put(name + ".rss", (rss - shmem) / 1024.0, "MB");
        out.put(name + ".region", shmem / 1024.0, "MB");
    }

    /** User and system CPU time of process {@code t} so far ({@code /proc/PID/stat}, clock ticks of 10 ms), in ns. */
    static long cpuNanos(Tool t) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + t.process.pid() + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" "); // fields from the 3rd (state) on
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10_000_000L; // utime, stime (fields 14, 15)
    }

    private static long kb(String status, String field) {
        Matcher m = Pattern.compile(field + ":\\s+(\\d+) kB").matcher(status);
        if (!m.find()) {
            throw new IllegalStateException("no " + field + " in /proc/PID/status");
        }
        return Long.parseLong(m.group(1));
    }

    /** A tool run through {@code bin/jnetmap} (exec'd: the process is the JVM), output to a temporary file. */
    static final class Tool implements AutoCloseable {
        final Process process;
        final Path log;

        private Tool(Process process, Path log) {
            this.process = process;
            this.log = log;
        }

        static Tool start(String... args) throws IOException {
            String root = System.getProperty("jnetmap.root", ".");
            List<String> cmd = new ArrayList<>(List.of(root + "/bin/jnetmap"));
            cmd.addAll(List.of(args));
            Path log = Files.createTempFile("jnetmap-tool", ".txt");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            return new Tool(p, log);
        }

        List<String> lines() {
            try {
                return Files.readAllLines(log, StandardCharsets.UTF_8);
            } catch (IOException e) {
                return List.of();
            }
        }

        void awaitOutput(String text, long timeoutMs) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
            while (lines().stream().noneMatch(l -> l.contains(text))) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("tool did not report \"" + text + "\": " + String.join("\n", lines()));
                }
                Thread.sleep(50);
            }
        }

        @Override
        public void close() throws IOException, InterruptedException {
            process.destroy(); // SIGTERM: the tool closes its ports
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
            Files.deleteIfExists(log);
        }
    }
}
