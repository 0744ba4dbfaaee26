package io.jnetmap.examples;

import io.jnetmap.poll.WaitStrategy;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The options every one-thread middlebox tool shares ({@code lb}, {@code firewall}, {@code nat}), declared
 * once and mixed in with {@code @Mixin}: how the forwarding thread waits, where it runs, and how much a
 * failure says.
 */
final class BoxOptions {
    /** The highest CPU number -a takes. */
    static final int MAX_CPU = 1023;

    @Option(names = "-W", description = "busy-wait instead of sleeping when idle")
    boolean busyWait;

    @Option(names = "-a", paramLabel = "CPU", defaultValue = "-1", description = "pin the forwarding thread to CPU (default: not pinned)")
    int cpu;

    @Option(names = "-v", description = "the stack trace of a failure")
    boolean verbose;

    /** Throws IllegalArgumentException with a one-line message for a bad value. */
    void check() {
        if (cpu != -1 && (cpu < 0 || cpu > MAX_CPU)) {
            throw new IllegalArgumentException("-a " + cpu + " (expected: 0.." + MAX_CPU + ")");
        }
    }

    /** Spin while idle (-W), else spin a moment and block. */
    WaitStrategy waitStrategy() {
        return busyWait ? WaitStrategy.busySpin() : WaitStrategy.spinThenBlock(Duration.ofMillis(1));
    }
}
