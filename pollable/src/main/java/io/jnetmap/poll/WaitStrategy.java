package io.jnetmap.poll;

import java.time.Duration;
import java.util.Locale;

/**
 * How a {@link Poller} waits when nothing is ready (OpenOnload's two modes and the mix of both):
 * <ul>
 *   <li>{@link #busySpin()}: keep looking, never sleep. A whole core at 100%, the lowest latency, and no
 *       system call at all while only ports are polled.</li>
 *   <li>{@link #spinThenBlock(Duration)}: look for a while, then sleep on the descriptors. Traffic that
 *       keeps coming never pays for a wake-up (~30 µs per side on a VM); an idle loop costs nothing.</li>
 *   <li>{@link #block()}: sleep at once (netmap's poll(), "interrupt mode"); the right choice when
 *       threads outnumber cores.</li>
 * </ul>
 */
public final class WaitStrategy {
    /** The three modes. */
    public enum Kind { BUSY_SPIN, SPIN_THEN_BLOCK, BLOCK }

    private static final WaitStrategy BUSY = new WaitStrategy(Kind.BUSY_SPIN, Long.MAX_VALUE);
    private static final WaitStrategy BLOCK = new WaitStrategy(Kind.BLOCK, 0);

    private final Kind kind;
    private final long spinNanos;

    private WaitStrategy(Kind kind, long spinNanos) {
        this.kind = kind;
        this.spinNanos = spinNanos;
    }

    /** Never sleeps. */
    public static WaitStrategy busySpin() {
        return BUSY;
    }

    /** Sleeps as soon as nothing is ready. */
    public static WaitStrategy block() {
        return BLOCK;
    }

    /** Spins for {@code spin}, then sleeps. */
    public static WaitStrategy spinThenBlock(Duration spin) {
        long ns = spin.toNanos();
        if (ns <= 0) {
            throw new IllegalArgumentException("spin=" + spin + " (expected: > 0; use block() to sleep at once)");
        }
        return new WaitStrategy(Kind.SPIN_THEN_BLOCK, ns);
    }

    /**
     * Parses {@code busy}, {@code block} or {@code spin:DURATION} with DURATION like {@code 50us},
     * {@code 2ms}, {@code 1s} or plain nanoseconds (for tools' command lines).
     */
    public static WaitStrategy parse(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        if (t.equals("busy")) {
            return busySpin();
        }
        if (t.equals("block")) {
            return block();
        }
        if (t.startsWith("spin:")) {
            String d = t.substring(5);
            long scale = 1;
            for (String[] u : new String[][] {{"ns", "1"}, {"us", "1000"}, {"ms", "1000000"}, {"s", "1000000000"}}) {
                if (d.endsWith(u[0])) {
                    d = d.substring(0, d.length() - u[0].length());
                    scale = Long.parseLong(u[1]);
                    break;
                }
            }
            try {
                return spinThenBlock(Duration.ofNanos(Math.multiplyExact(Long.parseLong(d), scale)));
            } catch (NumberFormatException | ArithmeticException e) {
                // fall through to the error below
            }
        }
        throw new IllegalArgumentException("wait strategy=" + s + " (expected: busy, block or spin:DURATION such as spin:50us)");
    }

    public Kind kind() {
        return kind;
    }

    /** How long to spin before sleeping: 0 for {@link #block()}, {@link Long#MAX_VALUE} for {@link #busySpin()}. */
    public long spinNanos() {
        return spinNanos;
    }

    @Override
    public String toString() {
        return switch (kind) {
            case BUSY_SPIN -> "busy";
            case BLOCK -> "block";
            case SPIN_THEN_BLOCK -> "spin:" + spinNanos + "ns";
        };
    }
}
