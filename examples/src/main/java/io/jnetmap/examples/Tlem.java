package io.jnetmap.examples;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.middlebox.LinkEmulator;
import io.jnetmap.middlebox.LinkSpec;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code bin/jnetmap tlem -i A -i B [-d DELAY] [-D DELAY] [-b BW] [-B BW] [-l LOSS] [-L LOSS] [-q QSIZE]
 * [-Q QSIZE] [-r P] [-R P] [-W] [-a CPU,...]}: netmap's link emulator, {@link LinkEmulator} on the command
 * line; lower-case options for A to B, upper-case for B to A (default: as A to B). Runs until Ctrl-C and
 * prints each direction's counters then.
 */
@Command(name = "tlem", mixinStandardHelpOptions = true, sortOptions = false,
        description = "netmap's tlem: emulates a link between two ports, per direction delay, bandwidth, loss, queue size "
                + "and reordering (lower-case options A->B, upper-case B->A, which defaults to A->B). Runs until Ctrl-C.",
        footer = {"", "Examples:", "  bin/jnetmap tlem -i netmap:vethA -i netmap:vethB -d 20ms -b ether,100M -l 0.001",
            "  bin/jnetmap tlem -i 'p}0' -i 'p}1' -d uniform,5ms,15ms -q 100000"})
public final class Tlem implements Callable<Integer>, Cli.Verbose {
    @Option(names = "-i", required = true, paramLabel = "PORT", description = "the two ports, A then B")
    List<String> ports = new ArrayList<>();

    @Option(names = "-d", paramLabel = "DELAY", description = "delay A->B: TIME, const,TIME, uniform,MIN,MAX or exp,MEAN[,MIN] (default: 0)")
    String delayAb;

    @Option(names = "-D", paramLabel = "DELAY", description = "delay B->A")
    String delayBa;

    @Option(names = "-b", paramLabel = "BW", description = "bandwidth A->B: RATE or ether,RATE (framing counted), e.g. 100M, ether,1G (default: unlimited)")
    String bwAb;

    @Option(names = "-B", paramLabel = "BW", description = "bandwidth B->A")
    String bwBa;

    @Option(names = "-l", paramLabel = "LOSS", description = "loss A->B: P, plr,P or ber,B (default: none)")
    String lossAb;

    @Option(names = "-L", paramLabel = "LOSS", description = "loss B->A")
    String lossBa;

    @Option(names = "-q", paramLabel = "QSIZE", description = "queue A->B in bytes (default: " + LinkSpec.DEFAULT_QUEUE_BYTES + ")")
    Long queueAb;

    @Option(names = "-Q", paramLabel = "QSIZE", description = "queue B->A in bytes")
    Long queueBa;

    @Option(names = "-r", paramLabel = "P", description = "A->B: probability that a packet is overtaken by the next (default: 0)")
    Double reorderAb;

    @Option(names = "-R", paramLabel = "P", description = "B->A reordering")
    Double reorderBa;

    @Option(names = "-W", description = "busy-wait: never park the threads")
    boolean busyWait;

    @Option(names = "-a", paramLabel = "CPU", split = ",", description = "pin the four threads (A->B stamp, release, B->A stamp, release) to these CPUs")
    int[] cpus = new int[0];

    @Option(names = "-v", description = "the stack trace of a failure")
    boolean verbose;

    @Spec
    CommandSpec spec;

    @Override
    public boolean verbose() {
        return verbose;
    }

    /** Both directions' specs from the options (upper-case ones default to the lower-case ones). */
    List<LinkSpec> specs() {
        LinkSpec ab = spec(delayAb, bwAb, lossAb, queueAb, reorderAb);
        LinkSpec ba = spec(first(delayBa, delayAb), first(bwBa, bwAb), first(lossBa, lossAb), first(queueBa, queueAb),
                first(reorderBa, reorderAb));
        return List.of(ab, ba);
    }

    private static <T> T first(T a, T b) {
        return a != null ? a : b;
    }

    private static LinkSpec spec(String delay, String bw, String loss, Long queue, Double reorder) {
        LinkSpec s = LinkSpec.ideal();
        if (delay != null) {
            s = s.withDelay(LinkSpec.Delay.parse(delay));
        }
        if (bw != null) {
            boolean ether = bw.startsWith("ether,");
            String rate = ether ? bw.substring(6) : bw.startsWith("const,") ? bw.substring(6) : bw;
            s = s.withBandwidth(LinkSpec.bitsPerSecond(rate), ether);
        }
        if (loss != null) {
            try {
                if (loss.startsWith("ber,")) {
                    s = s.withLoss(0, Double.parseDouble(loss.substring(4)));
                } else {
                    s = s.withLoss(Double.parseDouble(loss.startsWith("plr,") ? loss.substring(4) : loss), 0);
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("loss " + loss + " (expected: P, plr,P or ber,B with 0 <= P, B <= 1)");
            }
        }
        if (queue != null) {
            s = s.withQueue(queue);
        }
        if (reorder != null) {
            s = s.withReorder(reorder);
        }
        return s;
    }

    @Override
    public Integer call() throws Exception {
        List<LinkSpec> specs;
        try {
            if (ports.size() != 2) {
                throw new IllegalArgumentException("-i given " + ports.size() + " times (expected: twice, A and B)");
            }
            specs = specs();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        CountDownLatch stop = new CountDownLatch(1);
        try (StopOnSignal signal = new StopOnSignal("tlem-stop", stop::countDown, 3);
             Port a = Netmap.open(ports.get(0));
             Port b = Netmap.open(ports.get(1));
             LinkEmulator em = LinkEmulator.start(a, b, specs.get(0), specs.get(1), LinkEmulator.DEFAULT_LINE_BYTES, busyWait, cpus)) {
            out.println("tlem: " + a.name() + " (" + a.backend() + ") -> " + b.name() + ": " + describe(specs.get(0)));
            out.println("tlem: " + b.name() + " (" + b.backend() + ") -> " + a.name() + ": " + describe(specs.get(1)));
            out.flush();
            while (!stop.await(200, TimeUnit.MILLISECONDS)) {
                if (em.failure() != null) {
                    throw new IllegalStateException("emulation stopped: " + em.failure(), em.failure());
                }
            }
            for (int d = 0; d < 2; d++) {
                LinkEmulator.Stats s = em.stats(d);
                out.printf(Locale.ROOT, "tlem: %s received %d sent %d lost %d queue-drops %d line-full %d reordered %d"
                                + " delay min/avg/max %.3f/%.3f/%.3f ms%n", d == 0 ? "a->b" : "b->a", s.received(), s.sent(), s.lost(),
                        s.queueDrops(), s.lineFull(), s.reordered(), s.delayMinNanos() / 1e6, s.delayMeanNanos() / 1e6,
                        s.delayMaxNanos() / 1e6);
            }
        }
        return Cli.OK;
    }

    private static String describe(LinkSpec s) {
        return String.format(Locale.ROOT, "delay %s, bandwidth %s, loss %s, queue %d bytes, reorder %s",
                s.delay().kind() == LinkSpec.Delay.Kind.CONSTANT ? s.delay().minNanos() / 1e6 + " ms"
                        : s.delay().kind().name().toLowerCase(Locale.ROOT) + " " + s.delay().minNanos() / 1e6 + ".."
                        + (s.delay().kind() == LinkSpec.Delay.Kind.UNIFORM ? s.delay().maxNanos() : s.delay().meanNanos()) / 1e6 + " ms",
                s.bitsPerSec() == 0 ? "unlimited" : (s.ether() ? "ether," : "") + s.bitsPerSec() + " bit/s",
                s.ber() > 0 ? "ber " + s.ber() : String.valueOf(s.plr()), s.queueBytes(), String.valueOf(s.reorder()));
    }
}
