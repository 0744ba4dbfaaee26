package io.jnetmap.bench.limit;

import io.jnetmap.bench.BenchMain;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The same-machine C references ({@code bench/c/limits.c}): compiled with gcc at run time into
 * {@code bench/target/c/limits} and run in the same {@code bench/run} as the Java figures they bound,
 * each printed as a {@code limit.*} RESULT line; the suites register the {@code ….vs.c} ratios.
 */
public final class CLimits {
    private CLimits() {
    }

    /** The switch's references: copy and swap at 60 B, copy at 1514 B (the {@code vale} suite's 2-port figures). */
    public static void vale(boolean quick, BenchMain.Results out) throws IOException, InterruptedException {
        String secs = quick ? "1" : "3";
        run(out, "vale", "copy", "60", secs);
        run(out, "vale", "swap", "60", secs);
        run(out, "vale", "copy", "1514", secs);
    }

    /**
     * The pipe's references at batch 256, in one process (two threads) and across two processes: the
     * work of PipePort under PipeSuite's loops, measured over the window {@code pipe.xproc} uses (after
     * the same warm-up, both ends running).
     */
    public static void pipe(boolean quick, BenchMain.Results out) throws IOException, InterruptedException {
        String secs = quick ? "1" : "3";
        String warm = quick ? "1" : "2";
        run(out, "pipe", "inproc", "256", secs, warm);
        run(out, "pipe", "xproc", "256", secs, warm);
        alias(out, "limit.pipe.inproc.60B", "limit.pipe.inproc.60B.b256");
        alias(out, "limit.pipe.xproc.60B", "limit.pipe.xproc.60B.b256");
    }

    private static void alias(BenchMain.Results out, String name, String of) {
        Double v = out.get(of);
        if (v != null) {
            out.put(name, v, "Mpps");
        }
    }

    /** Runs {@code limits ARGS} and records every {@code <name> <value> <unit>} line it prints. */
    static void run(BenchMain.Results out, String... args) throws IOException, InterruptedException {
        for (String[] f : measure(args)) {
            out.put(f[0], Double.parseDouble(f[1]), f[2]);
        }
    }

    /** Runs {@code limits ARGS}; returns every {@code <name> <value> <unit>} line it printed, split in three. */
    public static List<String[]> measure(String... args) throws IOException, InterruptedException {
        Path exe = build();
        List<String> cmd = new ArrayList<>(List.of(exe.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("C reference " + String.join(" ", args) + " did not finish within 60 s");
        }
        if (p.exitValue() != 0) {
            throw new IOException("C reference " + String.join(" ", args) + " failed (exit " + p.exitValue() + ")");
        }
        List<String[]> figures = new ArrayList<>();
        for (String line : text.split("\n")) {
            String[] w = line.trim().split("\\s+");
            if (w.length == 3 && w[0].startsWith("limit.")) {
                figures.add(w);
            }
        }
        return figures;
    }

    private static Path built;

    /** Compiles {@code bench/c/limits.c} with gcc -O2 if the binary is missing or older than the source. */
    static synchronized Path build() throws IOException, InterruptedException {
        if (built != null) {
            return built;
        }
        Path root = root();
        Path src = root.resolve("bench/c/limits.c");
        if (!Files.isRegularFile(src)) {
            throw new IOException("C references: " + src + " not found (set -Djnetmap.root, as bench/run does)");
        }
        Path exe = root.resolve("bench/target/c/limits");
        if (!Files.isExecutable(exe) || Files.getLastModifiedTime(exe).compareTo(Files.getLastModifiedTime(src)) < 0) {
            Files.createDirectories(exe.getParent());
            Process p = new ProcessBuilder("gcc", "-O2", "-march=native", "-pthread", "-o", exe.toString(), src.toString())
                    .redirectErrorStream(true).start();
            String msg = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IOException("gcc failed on " + src + ":\n" + msg);
            }
        }
        built = exe;
        return exe;
    }

    /** The project's root: {@code -Djnetmap.root} (bench/run sets it), else the directory above bench/target. */
    private static Path root() {
        String r = System.getProperty("jnetmap.root");
        if (r != null) {
            return Path.of(r);
        }
        try {
            Path jar = Path.of(CLimits.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return jar.getParent().getParent().getParent(); // bench/target/benchmarks.jar -> root
        } catch (java.net.URISyntaxException e) {
            return Path.of(".").toAbsolutePath();
        }
    }
}
