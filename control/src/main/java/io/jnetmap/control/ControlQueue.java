package io.jnetmap.control;

import io.jnetmap.vale.SwitchAdmin;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.function.Supplier;

/**
 * The event loop's way into the switches: an action goes into the switches' control queue (a JCTools
 * MPSC queue, {@link SwitchAdmin#submit}) and runs on the housekeeping thread under the configuration
 * lock, between its passes; its result comes back on the caller's context with
 * {@link Context#runOnContext}. The event loop never waits and never takes the switches' lock.
 */
final class ControlQueue {
    private ControlQueue() {
    }

    /** Runs {@code action} on the housekeeping thread; the future completes on {@code ctx}. */
    static <T> Future<T> call(Context ctx, Supplier<T> action) {
        Promise<T> promise = Promise.promise();
        boolean queued = SwitchAdmin.submit(() -> {
            T result = null;
            RuntimeException failure = null;
            try {
                result = action.get();
            } catch (RuntimeException e) {
                failure = e;
            }
            T r = result;
            RuntimeException f = failure;
            ctx.runOnContext(v -> {
                if (f == null) {
                    promise.complete(r);
                } else {
                    promise.fail(f);
                }
            });
        });
        if (!queued) {
            return Future.failedFuture(new ApiError(503, "the control queue refused the request (no switch hosted, or "
                    + "too many requests waiting; retry)"));
        }
        return promise.future();
    }
}
