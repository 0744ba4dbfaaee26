package io.jnetmap.examples;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.examples.traffic.Counters;
import io.jnetmap.examples.traffic.Frame;
import io.jnetmap.examples.traffic.Generator;
import io.jnetmap.examples.traffic.Relay;
import io.jnetmap.examples.traffic.Sink;
import io.jnetmap.poll.WaitStrategy;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code bin/jnetmap demo}: the project's main job on an embedded default, in one process and without
 * root. Each {@link Path} is a generator (pkt-gen's txseq) sending into its first port, zero-copy
 * relays between the ports in the middle, and a sink (rxseq) on its last port, checking that
 * every packet arrives once and in order. Progress every second, a summary at the end; exit 0 when
 * every path delivered everything it sent, in order.
 *
 * <p>To add a path (a switch, a NIC pair), add it to {@link #paths(String)}: a name and the ports a
 * packet crosses, e.g. {@code new Path("switch", "vale0:a", "vale0:b")}.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Generators and sinks connected through zero-copy pipes and VALE switches (copy and swap) in one "
                + "process, no root: progress each second, a summary, exit 0 when every packet arrived once and in order."})
public final class Demo implements Callable<Integer> {
    /**
     * A path through jnetmap ports: {@code ports[0]} is sent on, {@code ports[last]} received on; each
     * pair in between ({@code ports[2k-1]} received on, {@code ports[2k]} sent on) is joined by a
     * {@link Relay}.
     */
    public record Path(String name, String... ports) {
        public Path {
            if (ports.length < 2 || ports.length % 2 != 0) {
                throw new IllegalArgumentException("path " + name + " has " + ports.length
                        + " ports (expected: an even number >= 2: sender, [receiver, sender]..., receiver)");
            }
        }
    }

    private static final int FRAME = 60;
    private static final int BURST = 256;

    @Option(names = "-t", paramLabel = "SECONDS", defaultValue = "5", description = "how long to send (default: ${DEFAULT-VALUE})")
    int seconds;

    @Spec
    CommandSpec spec;

    /** The demo's paths; {@code tag} keeps the pipe parents of concurrent runs apart. */
    static List<Path> paths(String tag) {
        List<Path> p = new ArrayList<>();
        p.add(new Path("pipe", tag + "{1", tag + "}1"));
        p.add(new Path("pipe+fwd+pipe", tag + "{2", tag + "}2", tag + "{3", tag + "}3"));
        // through a VALE switch: copied between the ports' private regions, or swapped when the receiver
        // shares the sender's region; back-pressure on the sender, so a slow sink costs time, not packets
        String sw = "vale" + tag;
        p.add(new Path("switch", sw + ":a@backpressure=on", sw + ":b"));
        p.add(new Path("switch-swap", sw + "z:a@backpressure=on", sw + "z:b@share=" + sw + "z:a"));
        return p;
    }

    @Override
    public Integer call() {
        if (seconds < 1 || seconds > 86_400) {
            throw new ParameterException(spec.commandLine(), "-t " + seconds + " (expected: 1..86400 seconds)");
        }
        return run(seconds, spec.commandLine().getOut());
    }

    /** One running path: its ports, its threads and what each stage counted. */
    private static final class Running {
        final Path path;
        final List<Port> ports = new ArrayList<>();
        final List<Thread> threads = new ArrayList<>();
        final Counters sent = new Counters();
        final Counters received = new Counters();
        final List<Counters> forwarded = new ArrayList<>();
        volatile Throwable failure;

        Running(Path path) {
            this.path = path;
        }
    }

    /** Runs every path for {@code seconds}; returns the exit code. */
    static int run(int seconds, PrintWriter out) {
        String tag = "demo" + ProcessHandle.current().pid();
        List<Path> paths = paths(tag);
        // each side spins briefly before sleeping: on a machine with fewer cores than threads nobody starves
        WaitStrategy wait = WaitStrategy.spinThenBlock(Duration.ofNanos(20_000));
        AtomicBoolean stopSenders = new AtomicBoolean();
        AtomicBoolean stopOthers = new AtomicBoolean();
        List<Running> running = new ArrayList<>();
        // Ctrl-C: stop the generators; the run drains, prints its summary and closes the ports (the shared
        // region goes with them) before the JVM exits
        StopOnSignal signal = new StopOnSignal("demo-stop", () -> stopSenders.set(true), 15);
        out.printf("jnetmap demo: %d paths for %d s, %d-byte frames, bursts of %d, one process, no root%n",
                paths.size(), seconds, FRAME, BURST);
        try {
            for (Path p : paths) {
                Running r = new Running(p);
                running.add(r);
                for (String name : p.ports()) {
                    r.ports.add(Netmap.open(name));
                }
                StringBuilder desc = new StringBuilder();
                for (Port port : r.ports) {
                    desc.append(desc.isEmpty() ? "" : " -> ").append(port.name());
                }
                out.printf("  %-14s %s (backend %s)%n", p.name(), desc, r.ports.get(0).backend());
                start(r, wait, stopSenders, stopOthers);
            }
            long t0 = System.nanoTime();
            long[] prev = new long[running.size()];
            for (int s = 1; s <= seconds && !stopSenders.get(); s++) {
                sleepUntil(t0 + s * 1_000_000_000L);
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%4d s", s));
                double total = 0;
                for (int k = 0; k < running.size(); k++) {
                    long now = running.get(k).received.packets();
                    double mpps = (now - prev[k]) / 1e6;
                    total += mpps;
                    line.append(String.format(Locale.ROOT, "  %s %.2f Mpps", running.get(k).path.name(), mpps));
                    prev[k] = now;
                }
                out.println(line.append(String.format(Locale.ROOT, "  total %.2f Mpps", total)));
            }
            stopSenders.set(true);
            drain(running);
            stopOthers.set(true);
            for (Running r : running) {
                for (Thread t : r.threads) {
                    t.join(5_000);
                }
            }
            return summary(running, out);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        } finally {
            stopSenders.set(true);
            stopOthers.set(true);
            for (Running r : running) {
                for (Thread t : r.threads) {
                    try {
                        t.join(5_000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                r.ports.forEach(Port::close);
            }
            signal.close();
        }
    }

    private static void start(Running r, WaitStrategy wait, AtomicBoolean stopSenders, AtomicBoolean stopOthers) {
        List<Port> ports = r.ports;
        Generator gen = new Generator(ports.get(0), Frame.standard(FRAME), BURST, true, wait);
        r.threads.add(thread(r, "gen", () -> gen.run(0, 0, r.sent, stopSenders)));
        for (int i = 1; i + 1 < ports.size(); i += 2) {
            Counters fc = new Counters();
            r.forwarded.add(fc);
            Relay f = new Relay(ports.get(i), ports.get(i + 1), wait);
            r.threads.add(thread(r, "fwd", () -> f.run(fc, stopOthers)));
        }
        Sink sink = new Sink(ports.get(ports.size() - 1), true, wait);
        r.threads.add(thread(r, "sink", () -> sink.run(0, r.received, stopOthers)));
        r.threads.forEach(Thread::start);
    }

    private static Thread thread(Running r, String role, Runnable body) {
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                r.failure = e;
            }
        }, "demo-" + r.path.name() + "-" + role);
        t.setDaemon(true);
        return t;
    }

    /** Waits (up to 5 s) until every sink received what its generator sent. */
    private static void drain(List<Running> running) throws InterruptedException {
        for (Running r : running) {
            r.threads.get(0).join(5_000);
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        for (Running r : running) {
            while (r.received.packets() + r.received.lost() < r.sent.packets() && r.failure == null
                    && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
        }
    }

    private static int summary(List<Running> running, PrintWriter out) {
        boolean ok = true;
        out.println("summary:");
        double total = 0;
        for (Running r : running) {
            Counters c = r.received;
            double secs = Math.max(1, c.lastNs() - c.firstNs()) / 1e9;
            double mpps = c.packets() / secs / 1e6;
            total += mpps;
            out.printf(Locale.ROOT, "  %-14s sent %,d received %,d (%.2f Mpps, %.2f Gbps) lost %d reordered %d%s%n",
                    r.path.name(), r.sent.packets(), c.packets(), mpps, c.bytes() * 8 / secs / 1e9, c.lost(), c.reordered(),
                    r.failure != null ? "  FAILED: " + r.failure : "");
            ok &= r.failure == null && c.packets() > 0 && c.packets() == r.sent.packets() && c.lost() == 0 && c.reordered() == 0;
        }
        out.printf(Locale.ROOT, "  %-14s %.2f Mpps%n", "total", total);
        out.println(ok ? "demo: OK, every packet arrived once and in order" : "demo: FAILED (see above)");
        return ok ? 0 : 1;
    }

    private static void sleepUntil(long deadline) throws InterruptedException {
        long left;
        while ((left = deadline - System.nanoTime()) > 0) {
            Thread.sleep(left / 1_000_000, (int) (left % 1_000_000));
        }
    }
}
