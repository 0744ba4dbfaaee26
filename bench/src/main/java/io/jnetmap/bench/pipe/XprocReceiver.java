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
            Ring r = rx.rxRing(0);
            long got = 0;
            long sum = 0;
            long start = System.nanoTime();
            long t0 = 0;
            long g0 = 0;
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
                    if (t0 == 0 && now - start >= warmup) {
                        t0 = now;
                        g0 = got;
                    } else if (t0 != 0 && now - t0 >= measure) {
                        System.out.println("RECEIVED " + (got - g0) + " " + (now - t0) + " " + (sum & 1));
                        break;
                    }
                }
            }
            r.sync();
        }
        System.exit(0);
    }
}
