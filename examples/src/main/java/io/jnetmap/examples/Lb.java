package io.jnetmap.examples;

import io.jnetmap.middlebox.LoadBalancer;
import io.jnetmap.poll.WaitStrategy;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code bin/jnetmap lb -i PORT -p [name:]N [-p [name:]M …] [-B EXTRA_BUFS] [-b BATCH] [-w WAIT] [-W] [-o SECONDS] [-a CPU]}:
 * netmap's load balancer, {@link LoadBalancer} on the command line. Runs until Ctrl-C; counters as JSON
 * lines every {@code -o} seconds and once at exit.
 */
@Command(name = "lb", mixinStandardHelpOptions = true, sortOptions = false,
        description = "netmap's lb: spreads the packets of one port over pipes name}0..N-1 by a symmetric flow hash "
                + "(both directions of a connection on one pipe); every group of pipes gets every packet. Consumers "
                + "open name}K in any process. Runs until Ctrl-C.",
        footer = {"", "Examples:", "  bin/jnetmap lb -i netmap:eth1 -p ids:4 -p cap:1 -B 4096 -o 1",
            "  bin/jnetmap pkt-gen -i 'ids}0' -f rx      (a consumer, in another shell)"})
public final class Lb implements Callable<Integer>, Cli.Verbose {
    @Option(names = "-i", required = true, paramLabel = "PORT", description = "the input port (any kind)")
    String input;

    @Option(names = "-p", required = true, paramLabel = "[name:]N",
            description = "a group of N pipes name{0..N-1 (name defaults to lb); repeat for more groups")
    List<String> groups = new ArrayList<>();

    @Option(names = "-B", paramLabel = "EXTRA_BUFS", defaultValue = "0",
            description = "overflow buffers for packets whose pipe is full (default: ${DEFAULT-VALUE}: drop at once)")
    int extraBufs;

    @Option(names = "-b", paramLabel = "BATCH", defaultValue = "512", description = "packets per batch (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "-w", paramLabel = "WAIT", defaultValue = "0", description = "seconds to wait before forwarding (default: ${DEFAULT-VALUE})")
    int waitSec;

    @Option(names = "-o", paramLabel = "SECONDS", defaultValue = "0",
            description = "print the counters as a JSON line every SECONDS (default: only at exit)")
    int statsSec;

    @Mixin
    BoxOptions box = new BoxOptions();

    @Spec
    CommandSpec spec;

    @Override
    public boolean verbose() {
        return box.verbose;
    }

    @Override
    public Integer call() throws Exception {
        List<LoadBalancer.Group> gs = new ArrayList<>();
        try {
            range("-B", extraBufs, 0, 1 << 24);
            range("-b", batch, 1, 1 << 16);
            range("-w", waitSec, 0, 3600);
            range("-o", statsSec, 0, 86400);
            box.check();
            for (String g : groups) {
                gs.add(LoadBalancer.Group.parse(g, "lb"));
            }
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        WaitStrategy wait = box.waitStrategy();
        if (waitSec > 0) {
            Thread.sleep(waitSec * 1000L);
        }
        CountDownLatch stop = new CountDownLatch(1);
        try (StopOnSignal signal = new StopOnSignal("lb-stop", stop::countDown, 3);
             LoadBalancer lb = LoadBalancer.start(input, gs, extraBufs, batch, wait, box.cpu)) {
            StringBuilder names = new StringBuilder();
            for (LoadBalancer.Group g : gs) {
                names.append(names.isEmpty() ? "" : ", ").append(g.name()).append("}0..").append(g.pipes() - 1);
            }
            out.println("lb: " + lb.input().name() + " (" + lb.input().backend() + ") -> " + names + ", "
                    + (lb.zeroCopy() ? "zero-copy (the input shares the last group's region)" : "copy")
                    + ", " + extraBufs + " overflow buffers");
            out.flush();
            long period = TimeUnit.SECONDS.toNanos(statsSec);
            long next = System.nanoTime() + period;
            while (!stop.await(200, TimeUnit.MILLISECONDS)) {
                if (lb.failure() != null) {
                    throw new IllegalStateException("forwarding stopped: " + lb.failure(), lb.failure());
                }
                if (statsSec > 0 && System.nanoTime() - next >= 0) {
                    next += period;
                    out.println(lb.countersJson());
                    out.flush();
                }
            }
            out.println(lb.countersJson());
            out.flush();
        }
        return Cli.OK;
    }

    private static void range(String opt, int v, int min, int max) {
        if (v < min || v > max) {
            throw new IllegalArgumentException(opt + " " + v + " (expected: " + min + ".." + max + ")");
        }
    }
}
