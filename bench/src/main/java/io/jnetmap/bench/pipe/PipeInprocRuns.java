package io.jnetmap.bench.pipe;

import io.jnetmap.bench.limit.CLimits;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * {@code pipe.inproc.60B} and its C reference ({@code limits pipe inproc}) run alternately several
 * times, one line per pair with its ratio, then the median and the spread of the ratios: a figure's
 * spread on a shared machine without the rest of the suite. Usage: {@code PipeInprocRuns RUNS
 * [WARMUP_MS MEASURE_MS [inproc|xproc|apart]]} (on the class path of bench/target/benchmarks.jar, with
 * {@code -Djnetmap.root}); {@code apart}: A/B of {@code pipe.inproc} with both ends opened by one
 * thread (together, as users and the suite do) or each by its own thread (heap objects apart).
 */
public final class PipeInprocRuns {
    private PipeInprocRuns() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1 || args.length > 4 || !args[0].matches("[1-9][0-9]{0,3}")) {
            System.err.println("usage: PipeInprocRuns RUNS [WARMUP_MS MEASURE_MS [inproc|xproc|apart]]");
            System.exit(2);
        }
        int runs = Integer.parseInt(args[0]);
        long warm = args.length > 1 ? Long.parseLong(args[1]) : 1000;
        long window = args.length > 2 ? Long.parseLong(args[2]) : 1000;
        String mode = args.length > 3 ? args[3] : "inproc";
        if (mode.equals("apart")) { // A/B: both ends opened by the main thread, or the receiving end by the receiving thread
            List<Double> a = new ArrayList<>();
            List<Double> b = new ArrayList<>();
            PipeSuite.inproc(256, warm, window, false); // the JIT's warm-up, not counted
            for (int i = 0; i < runs; i++) {
                boolean apartFirst = (i & 1) == 1; // alternate the order: A B, B A, ...
                double[] y = apartFirst ? PipeSuite.inproc(256, warm, window, true) : null;
                double[] x = PipeSuite.inproc(256, warm, window, false);
                if (!apartFirst) {
                    y = PipeSuite.inproc(256, warm, window, true);
                }
                a.add(x[0]);
                b.add(y[0]);
                System.out.printf("%d: together %.1f Mpps (rx %.2f ns/packet), apart %.1f Mpps (rx %.2f ns/packet)%n",
                        i, x[0], x[1], y[0], y[1]);
            }
            Collections.sort(a);
            Collections.sort(b);
            System.out.printf("median together %.1f, apart %.1f; best %.1f, %.1f%n",
                    a.get(runs / 2), b.get(runs / 2), a.get(runs - 1), b.get(runs - 1));
            System.exit(0);
        }
        if (!mode.equals("inproc") && !mode.equals("xproc")) {
            throw new IllegalArgumentException("mode " + mode + " (expected inproc, xproc or apart)");
        }
        List<Double> ratios = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            double java = mode.equals("inproc") ? PipeSuite.inproc(256, warm, window)[0] : PipeSuite.xproc(256, warm, window);
            double c = Double.parseDouble(CLimits.measure("pipe", mode, "256", "" + window / 1000.0, "" + warm / 1000.0).get(0)[1]);
            ratios.add(java / c);
            System.out.printf("%s %d: java %.1f Mpps, C %.1f Mpps, %.3fx%n", mode, i, java, c, java / c);
        }
        Collections.sort(ratios);
        System.out.printf("%s: median ratio %.3fx, range %.3f .. %.3f%n", mode, ratios.get(ratios.size() / 2), ratios.get(0),
                ratios.get(ratios.size() - 1));
        System.exit(0);
    }
}
