package io.jnetmap.bench;

import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.lang.reflect.Method;
import java.util.ArrayList;
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

        static String format(double v) {
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
        SUITES.put("vhost", new io.jnetmap.bench.vhost.VhostSuite());
        RATIOS.add(new String[] {"vale.l2.vs.l3.100k", "vale.copy.2p.60B", "vale.l3.100k.60B"});
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
            } else if (a.equals("--help") || a.equals("-h")) {
                System.out.println("usage: bench/run [--quick] [SUITE...]   suites: " + String.join(", ", SUITES.keySet()));
                return;
            } else if (SUITES.containsKey(a)) {
                wanted.add(a);
            } else {
                System.err.println("bench: unknown suite \"" + a + "\" (expected one of: " + String.join(", ", SUITES.keySet()) + ")");
                System.exit(2);
            }
        }
        if (wanted.isEmpty()) {
            wanted.addAll(SUITES.keySet());
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
                double v;
                if (r.metric().isEmpty()) {
                    v = rr.getPrimaryResult().getScore();
                } else {
                    var sec = rr.getSecondaryResults().get(r.metric());
                    if (sec == null) {
                        System.out.println("# " + bench + ": no metric " + r.metric());
                        continue;
                    }
                    v = sec.getScore();
                }
                out.put(withParams(r.name(), rr), v * r.scale(), r.unit());
            }
        }
    }

    /** Flags of every forked benchmark JVM. */
    public static String[] jvmArgs() {
        List<String> a = new ArrayList<>(List.of("--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC", "-Xms1g", "-Xmx1g"));
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
