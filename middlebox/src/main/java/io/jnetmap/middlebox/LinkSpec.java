package io.jnetmap.middlebox;

import java.util.Locale;

/**
 * One direction of an emulated link ({@link LinkEmulator}), netmap tlem's parameters: delay
 * distribution, bandwidth (optionally with Ethernet framing: preamble, FCS and inter-frame gap, 24
 * bytes per frame of at least 60), loss (packet loss rate or bit error rate), the bytes the link's
 * queue holds before tail drop, and the probability that a packet is overtaken by the next one.
 *
 * @param delay        how long a packet takes once serialized
 * @param bitsPerSec   link rate, 0 = unlimited
 * @param ether        count Ethernet framing overhead in the link rate
 * @param plr          packet loss rate, 0..1
 * @param ber          bit error rate, 0..1 (a packet of b bits is lost with probability 1-(1-ber)^b)
 * @param queueBytes   bytes waiting for the link before new packets are dropped
 * @param reorder      probability that a packet is overtaken by the one after it, 0..1
 */
public record LinkSpec(Delay delay, long bitsPerSec, boolean ether, double plr, double ber, long queueBytes, double reorder) {
    /** Ethernet's per-frame overhead: 7 preamble + 1 SFD + 4 FCS + 12 inter-frame gap. */
    public static final int ETHER_OVERHEAD = 24;
    /** The queue size unless one is given (netmap tlem's default is 50 000 bytes). */
    public static final long DEFAULT_QUEUE_BYTES = 50_000;

    public LinkSpec {
        if (bitsPerSec < 0) {
            throw new IllegalArgumentException("bandwidth=" + bitsPerSec + " (expected: >= 0 bit/s, 0 = unlimited)");
        }
        check("loss", plr);
        check("ber", ber);
        check("reorder", reorder);
        if (queueBytes < 1) {
            throw new IllegalArgumentException("queue=" + queueBytes + " (expected: >= 1 byte)");
        }
    }

    private static void check(String what, double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException(what + "=" + p + " (expected: 0..1)");
        }
    }

    /** No delay, no limit, no loss. */
    public static LinkSpec ideal() {
        return new LinkSpec(Delay.constant(0), 0, false, 0, 0, DEFAULT_QUEUE_BYTES, 0);
    }

    public LinkSpec withDelay(Delay d) {
        return new LinkSpec(d, bitsPerSec, ether, plr, ber, queueBytes, reorder);
    }

    public LinkSpec withBandwidth(long bps, boolean withEther) {
        return new LinkSpec(delay, bps, withEther, plr, ber, queueBytes, reorder);
    }

    public LinkSpec withLoss(double packetLossRate, double bitErrorRate) {
        return new LinkSpec(delay, bitsPerSec, ether, packetLossRate, bitErrorRate, queueBytes, reorder);
    }

    public LinkSpec withQueue(long bytes) {
        return new LinkSpec(delay, bitsPerSec, ether, plr, ber, bytes, reorder);
    }

    public LinkSpec withReorder(double p) {
        return new LinkSpec(delay, bitsPerSec, ether, plr, ber, queueBytes, p);
    }

    /** Bytes a frame of {@code len} bytes occupies on the link. */
    public int wireBytes(int len) {
        return ether ? Math.max(len, 60) + ETHER_OVERHEAD : len;
    }

    /** A delay distribution: constant, uniform in {@code [min, max]}, or {@code min} plus an exponential of mean {@code mean - min}. */
    public record Delay(Kind kind, long minNanos, long maxNanos, long meanNanos) {
        public enum Kind { CONSTANT, UNIFORM, EXPONENTIAL }

        public Delay {
            if (minNanos < 0 || maxNanos < minNanos || meanNanos < minNanos) {
                throw new IllegalArgumentException("delay " + kind.name().toLowerCase(Locale.ROOT) + " min=" + minNanos
                        + " max=" + maxNanos + " mean=" + meanNanos + " ns (expected: 0 <= min <= mean, max)");
            }
        }

        public static Delay constant(long nanos) {
            return new Delay(Kind.CONSTANT, nanos, nanos, nanos);
        }

        public static Delay uniform(long min, long max) {
            return new Delay(Kind.UNIFORM, min, max, (min + max) / 2);
        }

        public static Delay exponential(long mean, long min) {
            return new Delay(Kind.EXPONENTIAL, min, Long.MAX_VALUE / 4, mean);
        }

        /** A sample, from {@code u} uniform in [0, 1). */
        long sample(double u) {
            return switch (kind) {
                case CONSTANT -> minNanos;
                case UNIFORM -> minNanos + (long) (u * (maxNanos - minNanos));
                case EXPONENTIAL -> minNanos + (long) (-Math.log1p(-u) * (meanNanos - minNanos));
            };
        }

        /**
         * netmap tlem's syntax: {@code 10ms}, {@code const,10ms}, {@code uniform,5ms,15ms},
         * {@code exp,10ms[,2ms]} (mean, minimum); times as {@link LinkSpec#nanos} reads them.
         */
        public static Delay parse(String s) {
            String[] p = s.split(",");
            try {
                return switch (p[0]) {
                    case "const", "constant" -> p.length == 2 ? constant(nanos(p[1])) : bad(s);
                    case "uniform" -> p.length == 3 ? uniform(nanos(p[1]), nanos(p[2])) : bad(s);
                    case "exp" -> p.length == 2 || p.length == 3 ? exponential(nanos(p[1]), p.length == 3 ? nanos(p[2]) : 0) : bad(s);
                    default -> p.length == 1 ? constant(nanos(p[0])) : bad(s);
                };
            } catch (NumberFormatException e) {
                return bad(s);
            }
        }

        private static Delay bad(String s) {
            throw new IllegalArgumentException("delay " + s + " (expected: TIME, const,TIME, uniform,MIN,MAX or exp,MEAN[,MIN];"
                    + " TIME like 10ms, 250us, 1s, 500ns)");
        }
    }

    /** {@code 10ms}, {@code 250us}, {@code 1.5s}, {@code 500ns}; a bare number is milliseconds. */
    public static long nanos(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        double scale = 1e6;
        String[][] units = {{"ns", "1"}, {"us", "1e3"}, {"ms", "1e6"}, {"s", "1e9"}};
        for (String[] u : units) {
            if (t.endsWith(u[0])) {
                scale = Double.parseDouble(u[1]);
                t = t.substring(0, t.length() - u[0].length());
                break;
            }
        }
        double v = Double.parseDouble(t);
        if (!(v >= 0) || v * scale > 3.6e12) {
            throw new NumberFormatException(s);
        }
        return Math.round(v * scale);
    }

    /** {@code 100M}, {@code 1Gbps}, {@code 10k}; a bare number is bits per second. Returns bit/s. */
    public static long bitsPerSecond(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        if (t.endsWith("bps")) {
            t = t.substring(0, t.length() - 3);
        } else if (t.endsWith("bit/s")) {
            t = t.substring(0, t.length() - 5);
        }
        double scale = 1;
        if (t.endsWith("k")) {
            scale = 1e3;
        } else if (t.endsWith("m")) {
            scale = 1e6;
        } else if (t.endsWith("g")) {
            scale = 1e9;
        }
        if (scale != 1) {
            t = t.substring(0, t.length() - 1);
        }
        try {
            double v = Double.parseDouble(t) * scale;
            if (!(v >= 0) || v > 1e12) {
                throw new NumberFormatException();
            }
            return Math.round(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bandwidth " + s + " (expected: RATE like 100M, 1Gbps, 64k, 0 = unlimited;"
                    + " prefix ether, to count Ethernet framing)");
        }
    }
}
