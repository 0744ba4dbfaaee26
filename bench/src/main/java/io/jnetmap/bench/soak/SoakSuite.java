package io.jnetmap.bench.soak;

import io.jnetmap.bench.BenchMain;
import io.jnetmap.examples.Main;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Suite {@code soak}: {@code bin/jnetmap selftest soak} for 10 minutes (90 s with {@code --quick}):
 * pipe, switch and (as root) NIC traffic with ports attached and detached every 2 s and the switch's
 * counters read 4 times a second. Figures: the drift of the soak process's anonymous resident memory
 * after warm-up (%; must stay within 5), and whether the run passed (1) — 0 loss on pipe and switch,
 * counters conserved exactly.
 */
public final class SoakSuite implements BenchMain.Suite {
    @Override
    public void run(boolean quick, BenchMain.Results out) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        int code = Main.commandLine(ps, ps).execute("selftest", "soak", "-t", quick ? "90" : "600");
        String text = bytes.toString(StandardCharsets.UTF_8);
        for (String line : text.split("\n")) {
            if (line.startsWith("RESULT soak.rss.anon.drift ")) {
                out.put("soak.rss.anon.drift", Double.parseDouble(line.split(" ")[2]), "%");
            } else {
                System.out.println("# " + line);
            }
        }
        out.put("soak.passed", code == 0 ? 1 : 0, "bool");
    }
}
