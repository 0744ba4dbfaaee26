package io.jnetmap.bench;

import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * {@code bench/run [--quick] [SUITE...]}: runs benchmark suites and prints one line per figure,
 * {@code RESULT <name> <value> <unit>}, followed by the ratios of jnetmap to the peers measured in the
 * same run. A suite is a set of JMH benchmarks (figures named by {@link Result}) and, where JMH does not
 * fit (several processes, network namespaces), a hand-rolled measurement that prints its own lines.
 */
public final class BenchMain {
    /** A suite: runs its measurements and reports figures. */
    public interface Suite {
        void run(boolean quick, Results out) throws Exception;
    }

    /** Collects figures, prints them as they come, and derives ratios at the end. */
    public static final class Results {
        private final Map<String, Double> values = new LinkedHashMap<>();
        private final Map<String, String> units = new LinkedHashMap<>();

        public synchronized void put(String name, double value, String unit) {
            values.put(name, value);
            units.put(name, unit);
            System.out.println("RESULT " + name + " " + format(value) + " " + unit);
            System.out.flush();
        }

        private final List<String> warnings = new ArrayList<>();

        /** Prints a warning now and again at the end of the run (so that it is not lost among the figures). */
        public synchronized void warn(String line) {
            warnings.add(line);
            System.out.println(line);
            System.out.flush();
        }

        synchronized List<String> warnings() {
            return List.copyOf(warnings);
        }

        public synchronized Double get(String name) {
            return values.get(name);
        }

        /** Prints {@code RESULT <name> <a/b> x} if both figures were measured in this run. */
        public synchronized void ratio(String name, String a, String b) {
            Double va = values.get(a);
            Double vb = values.get(b);
            if (va != null && vb != null && vb != 0) {
                put(name, va / vb, "x");
            }
        }

        public static String format(double v) {
            if (v == 0 || Math.abs(v) >= 100) {
                return String.format(Locale.ROOT, "%.0f", v);
            }
            return String.format(Locale.ROOT, Math.abs(v) >= 10 ? "%.1f" : Math.abs(v) >= 1 ? "%.2f" : "%.3f", v);
        }
    }

    private static final Map<String, Suite> SUITES = new LinkedHashMap<>();
    /** Ratios printed after all suites: name, jnetmap figure, peer figure. */
    private static final List<String[]> RATIOS = new ArrayList<>();

    static {
        SUITES.put("core", (quick, out) -> jmh("io\\.jnetmap\\.bench\\.core\\..*", quick, true, out));
        SUITES.put("pipe", io.jnetmap.bench.pipe.PipeSuite::run);
        RATIOS.add(new String[] {"core.buf.write60.vs.bytebuffer", "peer.bytebuffer.write60", "core.buf.write60"});
        SUITES.put("nic", new io.jnetmap.bench.nic.NicSuite());
        SUITES.put("vale", io.jnetmap.bench.vale.ValeBench::suite);
        SUITES.put("capture", (quick, out) -> {
            jmh("io\\.jnetmap\\.bench\\.capture\\..*", quick, true, out);
            new io.jnetmap.bench.capture.CaptureSuite().run(quick, out); // live capture and file reading, against tcpdump
        });
        RATIOS.add(new String[] {"capture.filter.syn80.interp.vs.bytecode", "capture.filter.interp.syn80", "capture.filter.bytecode.syn80"});
        RATIOS.add(new String[] {"capture.filter.hosts20.interp.vs.bytecode", "capture.filter.interp.hosts20", "capture.filter.bytecode.hosts20"});
        SUITES.put("stack", new io.jnetmap.bench.stack.StackSuite());
        SUITES.put("soak", new io.jnetmap.bench.soak.SoakSuite());
        SUITES.put("middlebox", io.jnetmap.bench.middlebox.MiddleboxSuite::run);
        SUITES.put("ctl", io.jnetmap.bench.ctl.CtlSuite::run);
        SUITES.put("tools", ToolsSuite::run);
        SUITES.put("limit", (quick, out) -> {
            io.jnetmap.bench.limit.CLimits.vale(quick, out);
            io.jnetmap.bench.limit.CLimits.pipe(quick, out);
        });
        SUITES.put("vhost", new io.jnetmap.bench.vhost.VhostSuite());
        RATIOS.add(new String[] {"vale.l2.vs.l3.100k", "vale.copy.2p.60B", "vale.l3.100k.60B"});
        SUITES.put("vxlan", new io.jnetmap.bench.vxlan.VxlanSuite());
    }

    private BenchMain() {
    }

    /** Registers a suite (suites of other areas call this from a static block referenced below). */
    public static void suite(String name, Suite suite) {
        SUITES.put(name, suite);
    }

    /** Registers a ratio {@code a/b} to print when both were measured. */
    public static void ratio(String name, String a, String b) {
        RATIOS.add(new String[] {name, a, b});
    }

    public static void main(String[] args) throws Exception {
        boolean quick = false;
        List<String> wanted = new ArrayList<>();
        for (String a : args) {
            if (a.equals("--quick")) {
                quick = true;
            } else if (a.equals("--no-pin")) {
                pin = false;
            } else if (a.equals("--help") || a.equals("-h")) {
                System.out.println("usage: bench/run [--quick] [--no-pin] [SUITE...]   suites: " + String.join(", ", SUITES.keySet()));
                return;
            } else if (SUITES.containsKey(a)) {
                wanted.add(a);
            } else {
                System.err.println("bench: unknown suite \"" + a + "\" (expected one of: " + String.join(", ", SUITES.keySet()) + ")");
                System.exit(2);
            }
        }
        if (wanted.isEmpty()) {
            // the soak takes 10 minutes: run only when named (bench/run soak)
            SUITES.keySet().stream().filter(n -> !n.equals("soak")).forEach(wanted::add);
        }
        Results out = new Results();
        int failed = 0;
        for (String s : wanted) {
            System.out.println("# suite " + s + (quick ? " (quick)" : ""));
            try {
                SUITES.get(s).run(quick, out);
            } catch (Exception e) {
                failed++;
                System.out.println("# suite " + s + " failed: " + e);
                e.printStackTrace(System.out);
            }
        }
        for (String[] r : RATIOS) {
            out.ratio(r[0], r[1], r[2]);
        }
        for (String w : out.warnings()) {
            System.out.println(w);
        }
        System.exit(failed == 0 ? 0 : 1);
    }

    /**
     * Runs the JMH benchmarks whose names match {@code include} and reports every method annotated
     * with {@link Result}. {@code quick}: 1 fork, short iterations (a suite stays under a minute).
     */
    public static void jmh(String include, boolean quick, boolean gcProfiler, Results out) throws RunnerException {
        jmh(include, quick, gcProfiler, out, (b, o) -> { });
    }

    /** As {@link #jmh(String, boolean, boolean, Results)}, letting the caller add options. */
    public static void jmh(String include, boolean quick, boolean gcProfiler, Results out,
                           BiConsumer<Boolean, ChainedOptionsBuilder> tune) throws RunnerException {
        ChainedOptionsBuilder opt = new OptionsBuilder()
                .include(include)
                .forks(1)
                .jvmArgsAppend(jvmArgs())
                .shouldDoGC(true)
                .verbosity(VerboseMode.SILENT);
        if (quick) {
            opt.warmupIterations(2).warmupTime(TimeValue.milliseconds(600))
                    .measurementIterations(3).measurementTime(TimeValue.milliseconds(800));
        } else {
            opt.warmupIterations(4).warmupTime(TimeValue.seconds(1))
                    .measurementIterations(5).measurementTime(TimeValue.seconds(2));
        }
        if (gcProfiler) {
            opt.addProfiler(GCProfiler.class);
        }
        tune.accept(quick, opt);
        Collection<RunResult> results = new Runner(opt.build()).run();
        for (RunResult rr : results) {
            String bench = rr.getParams().getBenchmark();
            for (Result r : annotations(bench)) {
                double[] it = iterations(rr, r.metric());
                if (it.length == 0) {
                    System.out.println("# " + bench + ": no metric " + r.metric());
                    continue;
                }
                String name = withParams(r.name(), rr);
                double median = median(it) * r.scale();
                out.put(name, median, r.unit());
                spread(out, name, it, r.scale(), r.unit());
            }
        }
    }

    /** Every measured iteration's score of {@code metric} ("" = primary), over every fork. */
    static double[] iterations(RunResult rr, String metric) {
        List<Double> v = new ArrayList<>();
        for (BenchmarkResult br : rr.getBenchmarkResults()) {
            for (IterationResult ir : br.getIterationResults()) {
                if (metric.isEmpty()) {
                    v.add(ir.getPrimaryResult().getScore());
                } else {
                    var sec = ir.getSecondaryResults().get(metric);
                    if (sec != null) {
                        v.add(sec.getScore());
                    }
                }
            }
        }
        return v.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** The median (of an even count: the mean of the middle two). */
    public static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /**
     * Prints how far the iterations of a figure lie apart ({@code # name: median of N iterations, min ..
     * max}), as {@code <name>.spread} (max / min) for rates, and a WARNING when they differ by more than
     * 2x: such a figure says more about the machine (another process, a receiver that lost its CPU)
     * than about jnetmap.
     */
    public static void spread(Results out, String name, double[] it, double scale, String unit) {
        if (it.length < 2 || unit.equals("B/op")) {
            return;
        }
        double min = Arrays.stream(it).min().orElse(0) * scale;
        double max = Arrays.stream(it).max().orElse(0) * scale;
        System.out.println("# " + name + ": median of " + it.length + " iterations, min " + Results.format(min)
                + " max " + Results.format(max) + " " + unit);
        if (min > 0) {
            out.put(name + ".spread", max / min, "x");
        }
        // drops are noise by nature (a receiver descheduled once drops a ring): their spread is shown, not warned of
        if (max > 0 && (min <= 0 || max / min > 2) && !name.contains(".drops")) {
            String w = "WARNING " + name + ": iterations differ by more than 2x (" + Results.format(min) + " .. "
                    + Results.format(max) + " " + unit + "): the machine is not quiet (see docs/PERFORMANCE.md)";
            out.warn(w);
        }
    }

    /** Pin the threads of two-thread benchmarks ({@code bench/run --no-pin}: let the scheduler place them). */
    private static boolean pin = !"false".equals(System.getProperty("jnetmap.bench.pin"));

    /**
     * Pins the calling benchmark thread (thread {@code index} of a two-thread group: 0 the sender, 1 the
     * receiver) to a CPU of its own among those this process may use, so that the scheduler never
     * stacks both spinning threads on one CPU while the other CPU runs the harness or another process
     * (what made a two-thread figure move 10x between runs). Nothing if fewer than 2 CPUs are allowed.
     */
    public static void pinGroupThread(int index) {
        if (!pin) {
            return;
        }
        java.util.BitSet allowed = io.jnetmap.sys.Affinity.currentThread();
        int n = allowed.cardinality();
        if (n < 2) {
            return;
        }
        int cpu = allowed.nextSetBit(0);
        for (int k = 0; k < index % n; k++) {
            cpu = allowed.nextSetBit(cpu + 1);
        }
        io.jnetmap.sys.Affinity.pinCurrentThread(cpu);
    }

    /** Flags of every forked benchmark JVM. */
    public static String[] jvmArgs() {
        List<String> a = new ArrayList<>(List.of("--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC", "-Xms1g", "-Xmx1g",
                "-Djnetmap.bench.pin=" + pin));
        if (Runtime.version().feature() >= 24) {
            a.add("--sun-misc-unsafe-memory-access=allow"); // JMH's own harness uses Unsafe; jnetmap never does
        }
        return a.toArray(String[]::new);
    }

    /** A result name with each {@code {param}} replaced by the run's {@code @Param} value ({@code pipe.b{batch}}). */
    private static String withParams(String name, RunResult rr) {
        for (String key : rr.getParams().getParamsKeys()) {
            name = name.replace("{" + key + "}", rr.getParams().getParam(key));
        }
        return name;
    }

    private static Result[] annotations(String benchmark) {
        int dot = benchmark.lastIndexOf('.');
        try {
            Class<?> c = Class.forName(benchmark.substring(0, dot));
            for (Method m : c.getMethods()) {
                if (m.getName().equals(benchmark.substring(dot + 1))) {
                    return m.getAnnotationsByType(Result.class);
                }
            }
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(benchmark, e);
        }
        return new Result[0];
    }
}
