package io.jnetmap.bench.pipe;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;

/**
 * The receiving JVM of {@code pipe.xproc}: busy-polls one pipe end, taking up to a batch per rxsync,
 * and after a warm-up prints {@code RECEIVED <packets> <nanoseconds>} for a measurement window.
 * Usage: {@code XprocReceiver PORT BATCH WARMUP_MS MEASURE_MS}.
 */
public final class XprocReceiver {
    private XprocReceiver() {
    }

    public static void main(String[] args) {
        String name = args[0];
        int batch = Integer.parseInt(args[1]);
        long warmup = Long.parseLong(args[2]) * 1_000_000L;
        long measure = Long.parseLong(args[3]) * 1_000_000L;
        io.jnetmap.bench.BenchMain.pinGroupThread(1); // the CPU after the sender's, as the C reference's receiver
        try (Port rx = Netmap.open(name)) {
            long[] r = receive(rx.rxRing(0), batch, warmup, measure);
            System.out.println("RECEIVED " + r[0] + " " + r[1] + " " + r[2]);
        }
        System.exit(0);
    }

    /**
     * The receiving loop of {@code pipe.xproc} and {@code pipe.inproc}: busy-polls {@code r} (one rxsync
     * per loop, up to {@code batch} packets, each length read) and, once {@code warmupNs} have passed,
     * counts the packets received in a window of {@code measureNs}. Returns {packets, nanoseconds,
     * receiver CPU nanoseconds in the window, a bit of the lengths sum}.
     */
    static long[] receive(Ring r, int batch, long warmupNs, long measureNs) {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long got = 0;
        long sum = 0;
        long start = System.nanoTime();
        long t0 = 0;
        long g0 = 0;
        long c0 = 0;
        while (true) {
            r.sync();
            int n = Math.min(batch, r.space());
            int i = r.head();
            for (int k = 0; k < n; k++) {
                sum += r.len(i);
                i = r.nextSlot(i);
            }
            r.advanceTo(i);
            got += n;
            if ((got & 0xff) < n || n == 0) {
                long now = System.nanoTime();
                if (t0 == 0 && now - start >= warmupNs) {
                    t0 = now;
                    g0 = got;
                    c0 = mx.getCurrentThreadCpuTime();
                } else if (t0 != 0 && now - t0 >= measureNs) {
                    long cpu = mx.getCurrentThreadCpuTime() - c0;
                    r.sync();
                    return new long[] {got - g0, now - t0, cpu, sum & 1};
                }
            }
        }
    }
}
