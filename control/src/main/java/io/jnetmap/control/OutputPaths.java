package io.jnetmap.control;

import io.jnetmap.vale.ValeSwitch;
import io.vertx.core.buffer.Buffer;

import java.util.List;

/**
 * The daemon's periodic outputs, {@code /metrics} and the page's event, each by the path the server
 * takes (written straight into a reused byte array, copied into a reused response buffer) and by the
 * path before it (a {@code String} or a {@code JsonObject} tree, encoded into a new buffer as Vert.x's
 * {@code end(String)} does), for the ctl benchmark to measure side by side in one JVM. Each call
 * produces the bytes the server would hand to Vert.x and returns their count. Not thread-safe.
 */
public final class OutputPaths {
    private final List<ValeSwitch> switches;
    private final Metrics metrics = new Metrics();
    private final Events events = new Events();
    private final ReplyBuffers buffers = new ReplyBuffers();

    public OutputPaths(List<ValeSwitch> switches) {
        this.switches = List.copyOf(switches);
    }

    /** {@code /metrics} as served: into the writer, then into a pooled buffer (back in the pool, as after the write). */
    public int metrics(boolean openMetrics) {
        return served(metrics.write(switches, openMetrics));
    }

    /** {@code /metrics} as before: the {@code StringBuilder} page, then its UTF-8 bytes in a new buffer. */
    public int metricsBefore(boolean openMetrics) {
        return Buffer.buffer(ReferenceOutputs.metrics(switches, openMetrics)).length();
    }

    /** One event of the page's stream as served. */
    public int event() {
        return served(events.write(switches, System.currentTimeMillis(), System.nanoTime()));
    }

    /** One event as before: a {@code JsonObject} tree, encoded, concatenated, then its bytes in a new buffer. */
    public int eventBefore() {
        return Buffer.buffer(ReferenceOutputs.event(switches, System.currentTimeMillis(), System.nanoTime())).length();
    }

    private int served(ByteOut out) {
        Buffer big = buffers.take(out);
        int n = big.slice(0, out.length()).length();
        buffers.give(big);
        return n;
    }
}
