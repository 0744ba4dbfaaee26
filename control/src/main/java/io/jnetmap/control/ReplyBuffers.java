package io.jnetmap.control;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;

import java.util.ArrayDeque;

/**
 * Response bodies written by a {@link ByteOut} go out in reused Vert.x buffers: the bytes are copied into
 * a buffer of the pool, a slice of it (a view, no copy) is handed to the response, and the buffer
 * comes back to the pool when the response's write future completes, that is when Netty has written the
 * bytes or given up on the connection. A scrape of a large page so allocates a few small objects, not
 * the page again. The pool holds as many buffers as responses are in flight at once, and keeps at most
 * {@value #KEEP} of them idle.
 */
final class ReplyBuffers {
    private static final int KEEP = 4;

    private final ArrayDeque<Buffer> free = new ArrayDeque<>();

    /**
     * A reply body copied into a buffer of the pool, to be sent later (after the request's futures):
     * {@link #end} sends it and gives the buffer back once written.
     */
    record Taken(ReplyBuffers pool, Buffer big, int length) {
        Future<Void> end(HttpServerResponse resp) {
            return resp.end(big.slice(0, length)).andThen(done -> pool.give(big));
        }
    }

    /** {@code out}'s bytes in a buffer of the pool, for {@link Taken#end}. */
    Taken copy(ByteOut out) {
        return new Taken(this, take(out), out.length());
    }

    /** Ends {@code resp} with {@code out}'s bytes. */
    Future<Void> end(HttpServerResponse resp, ByteOut out) {
        Buffer big = take(out);
        return resp.end(big.slice(0, out.length())).andThen(done -> give(big));
    }

    /** Writes {@code out}'s bytes to {@code resp} (a chunk of a stream). */
    Future<Void> write(HttpServerResponse resp, ByteOut out) {
        Buffer big = take(out);
        return resp.write(big.slice(0, out.length())).andThen(done -> give(big));
    }

    /** A pooled buffer holding {@code out}'s bytes at {@code [0, out.length())}; {@link #give} it back once written. */
    synchronized Buffer take(ByteOut out) {
        Buffer big = free.pollFirst();
        if (big == null) {
            big = Buffer.buffer(Math.max(4096, out.length()));
        }
        return big.setBytes(0, out.array(), 0, out.length());
    }

    /** Back to the pool: nobody reads {@code big} any more. */
    synchronized void give(Buffer big) {
        if (free.size() < KEEP) {
            free.addFirst(big);
        }
    }
}
