package io.jnetmap.bench;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.examples.traffic.Counters;
import io.jnetmap.examples.traffic.Frame;
import io.jnetmap.examples.traffic.Generator;
import io.jnetmap.examples.traffic.Sink;
import io.jnetmap.poll.Pollable;
import io.jnetmap.poll.Poller;
import io.jnetmap.poll.WaitStrategy;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * CPU time per packet of pkt-gen's loops ({@link Generator}, {@link Sink}: what {@code pkt-gen -f tx}
 * and {@code -f rx} run) against the bare loops of {@code pipe.xproc} (set each slot's length, sync;
 * sync, read each length) on the same pipe, in rounds that alternate the two: a figure a shared
 * machine does not move much, where the cross-process rates are set by whoever else runs. Both threads
 * of a round sit on one CPU and sleep when their ring is full or empty ({@link WaitStrategy#block()}),
 * so their CPU time is their work (and their wake-ups), not spinning while the other side runs.
 *
 * <ul>
 *   <li>{@code pipe.pktgen.cpu.tx}, {@code pipe.pktgen.cpu.rx}: ns of thread CPU per packet, pkt-gen's loops;</li>
 *   <li>{@code pipe.loop.cpu.tx}, {@code pipe.loop.cpu.rx}: the same for the bare loops;</li>
 *   <li>{@code pipe.pktgen.cpu.vs.loop}: (loop tx + rx) / (pkt-gen tx + rx), 1 = pkt-gen costs what the bare loops cost.</li>
 * </ul>
 */
final class PktGenCpu {
    private static final int LEN = 60;
    private static final int BURST = 512;

    private PktGenCpu() {
    }

    static void run(boolean quick, BenchMain.Results out) throws Exception {
        long n = quick ? 5_000_000 : 20_000_000;
        int rounds = quick ? 5 : 9;
        double[][] pg = new double[2][rounds];
        double[][] loop = new double[2][rounds];
        int cpu = io.jnetmap.sys.Affinity.currentThread().nextSetBit(0);
        round(false, n / 5, cpu); // warm-up of both (JIT)
        round(true, n / 5, cpu);
        for (int r = 0; r < rounds; r++) {
            double[] a = round(true, n, cpu);
            double[] b = round(false, n, cpu);
            pg[0][r] = a[0];
            pg[1][r] = a[1];
            loop[0][r] = b[0];
            loop[1][r] = b[1];
        }
        double pgTx = BenchMain.median(pg[0]);
        double pgRx = BenchMain.median(pg[1]);
        double loopTx = BenchMain.median(loop[0]);
        double loopRx = BenchMain.median(loop[1]);
        out.put("pipe.pktgen.cpu.tx", pgTx, "ns");
        out.put("pipe.pktgen.cpu.rx", pgRx, "ns");
        out.put("pipe.loop.cpu.tx", loopTx, "ns");
        out.put("pipe.loop.cpu.rx", loopRx, "ns");
        out.put("pipe.pktgen.cpu.vs.loop", (loopTx + loopRx) / (pgTx + pgRx), "x");
    }

    /** One round of {@code n} packets, sender and receiver threads both on {@code cpu}; returns their CPU ns per packet. */
    private static double[] round(boolean pktGen, long n, int cpu) throws Exception {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        String parent = "bpc" + ProcessHandle.current().pid() + "x" + (System.nanoTime() & 0xffffff);
        try (Port tx = Netmap.open(parent + "{1@conf:pipes=1,slots=1024"); Port rx = Netmap.open(parent + "}1")) {
            AtomicLong rxCpu = new AtomicLong();
            AtomicReference<Throwable> failed = new AtomicReference<>();
            Thread receiver = new Thread(() -> {
                try {
                    io.jnetmap.sys.Affinity.pinCurrentThread(cpu);
                    long c0 = mx.getCurrentThreadCpuTime();
                    if (pktGen) {
                        new Sink(rx, false, WaitStrategy.block()).run(n, new Counters(), new AtomicBoolean());
                    } else {
                        loopRx(rx, n);
                    }
                    rxCpu.set(mx.getCurrentThreadCpuTime() - c0);
                } catch (Throwable e) {
                    failed.set(e);
                }
            }, "cpu-rx");
            long[] txCpu = new long[1];
            Thread sender = new Thread(() -> {
                try {
                    io.jnetmap.sys.Affinity.pinCurrentThread(cpu);
                    long c0 = mx.getCurrentThreadCpuTime();
                    if (pktGen) {
                        new Generator(tx, Frame.standard(LEN), BURST, false, WaitStrategy.block()).run(n, 0, new Counters(), new AtomicBoolean());
                    } else {
                        loopTx(tx, n);
                    }
                    txCpu[0] = mx.getCurrentThreadCpuTime() - c0;
                } catch (Throwable e) {
                    failed.set(e);
                }
            }, "cpu-tx");
            receiver.start();
            sender.start();
            sender.join(TimeUnit.MINUTES.toMillis(5));
            receiver.join(TimeUnit.MINUTES.toMillis(1));
            if (failed.get() != null || sender.isAlive() || receiver.isAlive()) {
                throw new IllegalStateException("pkt-gen CPU round failed (pkt-gen " + pktGen + ")", failed.get());
            }
            return new double[] {txCpu[0] / (double) n, rxCpu.get() / (double) n};
        }
    }

    /** pipe.xproc's sender: up to a burst of free slots, each length set, one txsync; sleeps while the ring is full. */
    private static void loopTx(Port p, long n) {
        Ring t = p.txRing(0);
        try (Poller poller = new Poller(WaitStrategy.block())) {
            poller.add(p.pollable(), Pollable.OUT);
            long sent = 0;
            while (sent < n) {
                int k = (int) Math.min(Math.min(BURST, t.space()), n - sent);
                if (k == 0) {
                    poller.poll(TimeUnit.MILLISECONDS.toNanos(100));
                    continue;
                }
                int i = t.head();
                for (int j = 0; j < k; j++) {
                    t.setSlot(i, LEN, 0);
                    i = t.nextSlot(i);
                }
                t.advanceTo(i);
                t.sync();
                sent += k;
            }
        }
    }

    /** pipe.xproc's receiver: one rxsync, then every packet, each length read; sleeps while the ring is empty. */
    private static void loopRx(Port p, long n) {
        Ring r = p.rxRing(0);
        try (Poller poller = new Poller(WaitStrategy.block())) {
            poller.add(p.pollable(), Pollable.IN);
            long got = 0;
            long sum = 0;
            while (got < n) {
                r.sync();
                int k = (int) Math.min(r.space(), n - got);
                if (k == 0) {
                    poller.poll(TimeUnit.MILLISECONDS.toNanos(100));
                    continue;
                }
                int i = r.head();
                for (int j = 0; j < k; j++) {
                    sum += r.len(i);
                    i = r.nextSlot(i);
                }
                r.advanceTo(i);
                got += k;
            }
            r.sync();
            if (sum != (long) LEN * n) {
                throw new IllegalStateException("lengths " + sum + " (expected: " + LEN * n + ")");
            }
        }
    }
}
