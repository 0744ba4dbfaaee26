package io.jnetmap.examples.traffic;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;

/**
 * Prints one line per interval about a traffic loop running on another thread (pkt-gen's periodic
 * report): rate in packets and bits per second, average batch, and sequence errors or round-trip
 * times when the loop counts them. Only this thread formats strings; the loop's hot path allocates
 * nothing.
 */
public final class Reporter extends Thread {
    private final Counters c;
    private final long intervalNs;
    private final PrintWriter out;
    private final boolean seq;
    private final boolean rtt;
    private volatile boolean done;

    public Reporter(Counters c, long intervalMs, PrintWriter out, boolean seq, boolean rtt) {
        super("pkt-gen-report");
        setDaemon(true);
        this.c = c;
        this.intervalNs = intervalMs * 1_000_000L;
        this.out = out;
        this.seq = seq;
        this.rtt = rtt;
    }

    @Override
    public void run() {
        long start = System.nanoTime();
        long prevT = start;
        long prevPkts = 0;
        long prevBytes = 0;
        long prevBatches = 0;
        long prevRttSum = 0;
        long prevRtts = 0;
        long next = start + intervalNs;
        while (!done) {
            long left = next - System.nanoTime();
            if (left > 0) {
                LockSupport.parkNanos(this, left);
                continue;
            }
            long now = System.nanoTime();
            next += intervalNs;
            long pkts = c.packets();
            long bytes = c.bytes();
            long batches = c.batches();
            double dt = (now - prevT) / 1e9;
            double pps = (pkts - prevPkts) / dt;
            double bps = (bytes - prevBytes) * 8 / dt;
            double avgBatch = batches > prevBatches ? (double) (pkts - prevPkts) / (batches - prevBatches) : 0;
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%9.3f s %11spps %11sbps %10d pkts %8.2f avg_batch",
                    (now - start) / 1e9, si(pps), si(bps), pkts - prevPkts, avgBatch));
            if (seq) {
                line.append(String.format(Locale.ROOT, "  lost %d reordered %d", c.lost(), c.reordered()));
            }
            if (rtt) {
                long rttSum = c.rttSum();
                long rtts = c.rtts();
                line.append(rtts > prevRtts ? String.format(Locale.ROOT, "  rtt avg %d ns", (rttSum - prevRttSum) / (rtts - prevRtts))
                        : "  rtt -");
                prevRttSum = rttSum;
                prevRtts = rtts;
            }
            out.println(line);
            prevT = now;
            prevPkts = pkts;
            prevBytes = bytes;
            prevBatches = batches;
        }
    }

    /** Stops reporting (the final summary is the caller's). */
    public void finish() throws InterruptedException {
        done = true;
        LockSupport.unpark(this);
        join(2_000);
    }

    /** 12345678 -> "12.35 M". */
    static String si(double v) {
        String[] units = {"", "K", "M", "G", "T"};
        int u = 0;
        while (v >= 1000 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        return String.format(Locale.ROOT, u == 0 ? "%.0f " : "%.2f %s", v, units[u]);
    }
}
