package io.jnetmap.bench.pipe;

import io.jnetmap.bench.BenchMain;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.core.Slot;
import io.jnetmap.poll.Pollable;
import io.jnetmap.poll.Poller;
import io.jnetmap.poll.WaitStrategy;
import org.HdrHistogram.Histogram;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code bench/run pipe}: pipe throughput in one process (two pinned threads, {@link #inproc}; and as
 * JMH iterations, {@link PipeBench}, with its peers), pipe throughput across two processes and
 * ping-pong round trips (hand-rolled: a second JVM, and percentiles from a histogram) next to the machine's floor for a round trip between two threads
 * ({@code peer.spin.pingpong.p50}), and the allocation per packet. Every figure is 60-byte packets.
 */
public final class PipeSuite {
    private static final int[] BATCHES = {32, 256, 512};

    /** What each side of {@code pipe.*.vs.c} does, printed with the figures. */
    static final String[] COMPARISON = {
        "pipe.*.vs.c: the same work per packet in Java and C (bench/c/limits.c): 1024 slots of 16 bytes, batch 256, 60-byte packets whose bytes nobody touches;",
        "  sender: sets each slot's len and flags, one txsync per batch (head checked; each slot's first 8 bytes swapped with the peer's RX slot, the first",
        "  by an atomic exchange, the released bufIdx checked, both flagged NS_BUF_CHANGED; RX tail published; the peer's wait word read after a fence; TX tail read);",
        "  receiver: one rxsync per loop (new slots' bufIdx and len checked; released slots given back), then up to 256 packets, each length read;",
        "  both: the sender and the receiver pinned to a CPU each, busy-polling; figure = packets received in a window after a warm-up, both ends running",
        "  (1 s warm-up + 1 s window (quick; 2 s + 3 s otherwise), Java and C alike; inproc: two threads of one process on one pipe, xproc: two processes);",
        "  pipe.inproc.60B.b*.rx.cpu: the receiving thread's CPU time per packet in the window. pipe.inproc.60B.jmh: the same loops as JMH iterations",
        "  (PipeBench, JMH's warm-up and per-invocation overhead), no C peer."
    };

    private PipeSuite() {
    }

    public static void run(boolean quick, BenchMain.Results out) throws Exception {
        BenchMain.ratio("pipe.inproc.60B.vs.jctools", "pipe.inproc.60B", "peer.jctools.60B");
        BenchMain.ratio("pipe.inproc.60B.vs.abq", "pipe.inproc.60B", "peer.abq.60B");
        BenchMain.ratio("pipe.xproc.60B.vs.jctools", "pipe.xproc.60B", "peer.jctools.60B");
        BenchMain.ratio("pipe.pingpong.busy.vs.spin", "peer.spin.pingpong.p50", "pipe.pingpong.busy.p50");
        BenchMain.ratio("pipe.inproc.60B.vs.c", "pipe.inproc.60B", "limit.pipe.inproc.60B");
        BenchMain.ratio("pipe.inproc.60B.jmh.vs.c", "pipe.inproc.60B.jmh", "limit.pipe.inproc.60B");
        BenchMain.ratio("pipe.xproc.60B.vs.c", "pipe.xproc.60B", "limit.pipe.xproc.60B");
        io.jnetmap.bench.limit.CLimits.pipe(quick, out); // the C references first, in the same run
        for (String note : COMPARISON) {
            System.out.println("NOTE " + note);
        }
        for (int batch : BATCHES) {
            if (quick && batch != 256) {
                continue;
            }
            double[] in = inproc(batch, quick ? 1000 : 2000, quick ? 1000 : 3000);
            out.put("pipe.inproc.60B.b" + batch, in[0], "Mpps");
            out.put("pipe.inproc.60B.b" + batch + ".rx.cpu", in[1], "ns");
        }
        alias(out, "pipe.inproc.60B", "pipe.inproc.60B.b256", "Mpps");
        for (int batch : BATCHES) {
            if (quick && batch != 256) {
                continue;
            }
            out.put("pipe.xproc.60B.b" + batch, xproc(batch, quick ? 1000 : 2000, quick ? 1000 : 3000), "Mpps");
        }
        alias(out, "pipe.xproc.60B", "pipe.xproc.60B.b256", "Mpps");
        // JMH after the figures the C references bound, so those run right after them
        // --quick: batch 256 only (the headline figures), so the suite stays under a minute
        BenchMain.jmh("io\\.jnetmap\\.bench\\.pipe\\.PipeBench\\..*", quick, true, out, (q, opt) -> {
            if (q) {
                opt.param("batch", "256");
            }
        });
        alias(out, "pipe.inproc.60B.jmh", "pipe.inproc.60B.jmh.b256", "Mpps");
        for (WaitStrategy s : new WaitStrategy[] {WaitStrategy.busySpin(), WaitStrategy.block()}) {
            boolean busy = s.kind() == WaitStrategy.Kind.BUSY_SPIN;
            int rounds = busy ? (quick ? 100_000 : 400_000) : (quick ? 3_000 : 10_000);
            Histogram h = pingPong(s, rounds / 5, rounds);
            String name = "pipe.pingpong." + (busy ? "busy" : "block");
            out.put(name + ".p50", h.getValueAtPercentile(50), "ns");
            out.put(name + ".p99", h.getValueAtPercentile(99), "ns");
        }
        Histogram spin = spinPingPong(quick ? 20_000 : 80_000, quick ? 100_000 : 400_000);
        out.put("peer.spin.pingpong.p50", spin.getValueAtPercentile(50), "ns");
    }

    /**
     * The floor of any ping-pong between two threads of this machine: a counter bounced through two
     * AtomicLongs, both sides spinning (no ring, no descriptor, one cache line each way).
     */
    static Histogram spinPingPong(int warmup, int rounds) throws InterruptedException {
        Histogram h = new Histogram(TimeUnit.SECONDS.toNanos(1), 3);
        AtomicLong ping = new AtomicLong();
        AtomicLong pong = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        Thread t = new Thread(() -> {
            long seen = 0;
            while (!stop.get()) {
                long v = ping.get();
                if (v != seen) {
                    seen = v;
                    pong.lazySet(v);
                } else {
                    Thread.onSpinWait();
                }
            }
        }, "spin-pong");
        t.start();
        try {
            for (int r = 1; r <= warmup + rounds; r++) {
                long t0 = System.nanoTime();
                ping.lazySet(r);
                while (pong.get() != r) {
                    Thread.onSpinWait();
                }
                if (r > warmup) {
                    h.recordValue(Math.min(System.nanoTime() - t0, h.getHighestTrackableValue()));
                }
            }
        } finally {
            stop.set(true);
            t.join(5_000);
        }
        return h;
    }

    private static void alias(BenchMain.Results out, String name, String of, String unit) {
        Double v = out.get(of);
        if (v != null) {
            out.put(name, v, unit);
        }
    }

    /**
     * Sends busy-polling on a pipe end in this JVM while a second JVM ({@link XprocReceiver}) receives
     * on the other end, sender and receiver pinned to a CPU each as in the C reference ({@code
     * bench/run --no-pin}: not pinned); returns what the receiver measured, in Mpps.
     */
    static double xproc(int batch, long warmupMs, long measureMs) throws Exception {
        String parent = "benchx" + ProcessHandle.current().pid() + "b" + batch;
        try (Port tx = Netmap.open(parent + "{1@conf:pipes=1,slots=" + PipeBench.SLOTS)) {
            List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java")));
            cmd.addAll(List.of(BenchMain.jvmArgs()));
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), XprocReceiver.class.getName(),
                    parent + "}1", "" + batch, "" + warmupMs, "" + measureMs));
            Process child = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            AtomicReference<String> result = new AtomicReference<>();
            AtomicBoolean done = new AtomicBoolean();
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        if (line.startsWith("RECEIVED ")) {
                            result.set(line);
                        }
                    }
                } catch (java.io.IOException ignored) {
                    // the child's exit ends the stream either way
                } finally {
                    done.set(true);
                }
            });
            reader.start();
            AtomicReference<Throwable> failed = new AtomicReference<>();
            Thread sender = new Thread(() -> {
                try {
                    BenchMain.pinGroupThread(0); // a CPU of its own, as the C reference's sender (the receiver takes the next)
                    send(tx.txRing(0), batch, done, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(warmupMs + measureMs + 30_000));
                } catch (Throwable e) {
                    failed.set(e);
                }
            }, "xproc-sender");
            try {
                sender.start();
                sender.join();
                reader.join(10_000);
                if (failed.get() != null) {
                    throw new IllegalStateException("sender failed", failed.get());
                }
                if (!child.waitFor(10, TimeUnit.SECONDS) || child.exitValue() != 0 || result.get() == null) {
                    throw new IllegalStateException("receiver JVM failed (exit " + (child.isAlive() ? "none" : child.exitValue())
                            + ", result " + result.get() + ")");
                }
            } finally {
                child.destroyForcibly();
            }
            String[] w = result.get().split(" ");
            return Long.parseLong(w[1]) * 1e3 / Long.parseLong(w[2]);
        }
    }

    /**
     * The sending loop of {@code pipe.xproc} and {@code pipe.inproc}: busy-polls {@code t}, filling up to
     * {@code batch} free slots (length 60) and publishing them with one txsync, until {@code done} or
     * the deadline ({@link System#nanoTime}).
     */
    static void send(Ring t, int batch, AtomicBoolean done, long deadline) {
        while (!done.get() && System.nanoTime() < deadline) {
            for (int k = 0; k < 1024; k++) {
                int n = Math.min(batch, t.space());
                if (n == 0) {
                    t.sync();
                    continue;
                }
                int i = t.head();
                for (int j = 0; j < n; j++) {
                    t.setSlot(i, PipeBench.LEN, 0);
                    i = t.nextSlot(i);
                }
                t.advanceTo(i);
                t.sync();
            }
        }
    }

    /**
     * {@code pipe.inproc}: what {@link #xproc} measures, with both ends in this JVM: a sender thread and
     * a receiver thread on one pipe, pinned to a CPU each as in the C reference, the same loops ({@link
     * #send}, {@link XprocReceiver#receive}), warm-up and window. Returns {Mpps, receiver CPU ns per packet}.
     */
    static double[] inproc(int batch, long warmupMs, long measureMs) throws Exception {
        return inproc(batch, warmupMs, measureMs, false);
    }

    /**
     * {@link #inproc}; with {@code apart}, the receiving end is opened by the receiving thread (its
     * objects in that thread's TLAB, away from the sending end's), for A/B runs ({@link PipeInprocRuns}).
     */
    static double[] inproc(int batch, long warmupMs, long measureMs, boolean apart) throws Exception {
        String parent = "benchi" + ProcessHandle.current().pid() + "b" + batch + "x" + (System.nanoTime() & 0xffffff);
        java.util.concurrent.CompletableFuture<Port> opened = new java.util.concurrent.CompletableFuture<>();
        try (Port tx = Netmap.open(parent + "{1@conf:pipes=1,slots=" + PipeBench.SLOTS);
             Port rx = apart ? null : Netmap.open(parent + "}1")) {
            AtomicBoolean done = new AtomicBoolean();
            AtomicReference<Throwable> failed = new AtomicReference<>();
            AtomicReference<long[]> result = new AtomicReference<>();
            Thread receiver = new Thread(() -> {
                try {
                    BenchMain.pinGroupThread(1); // the CPU after the sender's, as the C reference's receiver
                    Port r = rx != null ? rx : Netmap.open(parent + "}1");
                    try {
                        opened.complete(r);
                        result.set(XprocReceiver.receive(r.rxRing(0), batch, TimeUnit.MILLISECONDS.toNanos(warmupMs),
                                TimeUnit.MILLISECONDS.toNanos(measureMs)));
                    } finally {
                        if (rx == null) {
                            r.close();
                        }
                    }
                } catch (Throwable e) {
                    failed.set(e);
                    opened.completeExceptionally(e);
                } finally {
                    done.set(true);
                }
            }, "inproc-receiver");
            Thread sender = new Thread(() -> {
                try {
                    BenchMain.pinGroupThread(0);
                    send(tx.txRing(0), batch, done, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(warmupMs + measureMs + 30_000));
                } catch (Throwable e) {
                    failed.set(e);
                    done.set(true);
                }
            }, "inproc-sender");
            receiver.start();
            opened.get(30, TimeUnit.SECONDS);
            sender.start();
            sender.join();
            receiver.join(30_000);
            if (failed.get() != null || result.get() == null) {
                throw new IllegalStateException("pipe.inproc failed", failed.get());
            }
            long[] r = result.get();
            return new double[] {r[0] * 1e3 / r[1], (double) r[2] / Math.max(1, r[0])};
        }
    }

    /**
     * One packet bounced between the two ends of a pipe by two threads of this JVM, each waiting in a
     * {@link Poller} with {@code strategy}; returns the round-trip times after {@code warmup} rounds.
     */
    static Histogram pingPong(WaitStrategy strategy, int warmup, int rounds) throws Exception {
        String parent = "benchp" + ProcessHandle.current().pid() + "x" + (System.nanoTime() & 0xffffff);
        Histogram h = new Histogram(TimeUnit.SECONDS.toNanos(1), 3);
        AtomicBoolean stop = new AtomicBoolean();
        try (Port a = Netmap.open(parent + "{1@conf:pipes=1,slots=64"); Port b = Netmap.open(parent + "}1")) {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread pong = new Thread(() -> {
                try (Poller p = new Poller(strategy)) {
                    p.add(b.pollable(), Pollable.IN);
                    Ring rx = b.rxRing(0);
                    Ring tx = b.txRing(0);
                    while (!stop.get()) {
                        if (p.poll(TimeUnit.MILLISECONDS.toNanos(50)) == 0) {
                            continue;
                        }
                        int i = rx.head();
                        int j = tx.head();
                        int n = Math.min(rx.space(), tx.space());
                        for (int k = 0; k < n; k++) {
                            Ring.swap(rx, i, tx, j);
                            tx.setSlot(j, rx.len(i), Slot.NS_BUF_CHANGED);
                            i = rx.nextSlot(i);
                            j = tx.nextSlot(j);
                        }
                        rx.advanceTo(i);
                        tx.advanceTo(j);
                        tx.sync();
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            }, "pong");
            pong.start();
            try (Poller p = new Poller(strategy)) {
                p.add(a.pollable(), Pollable.IN);
                Ring tx = a.txRing(0);
                Ring rx = a.rxRing(0);
                for (int round = 0; round < warmup + rounds && failure.get() == null; round++) {
                    while (tx.space() == 0) {
                        tx.sync();
                    }
                    int i = tx.head();
                    tx.setSlot(i, PipeBench.LEN, 0);
                    tx.advanceTo(tx.nextSlot(i));
                    long t0 = System.nanoTime();
                    tx.sync();
                    while (p.poll(TimeUnit.SECONDS.toNanos(5)) == 0) {
                        if (failure.get() != null) {
                            break;
                        }
                    }
                    long rtt = System.nanoTime() - t0;
                    rx.advanceTo(rx.tail());
                    if (round >= warmup) {
                        h.recordValue(Math.min(rtt, h.getHighestTrackableValue()));
                    }
                }
            } finally {
                stop.set(true);
                pong.join(5_000);
            }
            if (failure.get() != null) {
                throw new IllegalStateException("pong thread failed", failure.get());
            }
        }
        return h;
    }
}
