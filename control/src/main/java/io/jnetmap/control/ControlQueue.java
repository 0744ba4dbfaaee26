package io.jnetmap.control;

import io.jnetmap.vale.SwitchAdmin;
import io.jnetmap.vale.ValeSwitches;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.function.Supplier;

/**
 * The event loop's way into the switches: an action goes into the switches' control queue (a JCTools
 * MPSC queue, {@link SwitchAdmin#submit}) and runs on the housekeeping thread under the configuration
 * lock, between its passes; a light action ({@link #callLight}, {@link SwitchAdmin#submitLight}) may
 * instead run in a forwarding thread between two batches. Its result comes back on the caller's
 * context with {@link Context#runOnContext}. The event loop never waits and never takes the switches' lock.
 */
final class ControlQueue {
    private ControlQueue() {
    }

    /** Runs {@code action} on the housekeeping thread; the future completes on {@code ctx}. */
    static <T> Future<T> call(Context ctx, Supplier<T> action) {
        Future<T> f = submit(ctx, action, false);
        return f != null ? f : Future.failedFuture(refused());
    }

    /**
     * As {@link #call}, for an action that only sets a field or swaps a reference (the rules of
     * {@link SwitchAdmin#submitLight}: no configuration lock, nothing opened, never blocks): it runs
     * between two batches of whichever thread forwards next, or on the housekeeping thread.
     */
    static <T> Future<T> callLight(Context ctx, Supplier<T> action) {
        Future<T> f = submit(ctx, action, true);
        return f != null ? f : Future.failedFuture(refused());
    }

    /**
     * As {@link #call}, for an action that may have to run while this process hosts no switch (creating
     * one): then no housekeeping thread runs, and the action runs on a Vert.x worker thread instead
     * (the event loop still never waits).
     */
    static <T> Future<T> callOrWork(Context ctx, Supplier<T> action) {
        Future<T> f = submit(ctx, action, false);
        if (f != null) {
            return f;
        }
        return ctx.executeBlocking(() -> {
            if (!ValeSwitches.switches().isEmpty()) {
                throw refused(); // a housekeeping thread runs: the queue was full
            }
            return action.get();
        }, true);
    }

    private static ApiError refused() {
        return new ApiError(503, "the control queue refused the request (no switch hosted, or too many requests waiting; retry)");
    }

    /** The action queued (its future), or null if the queue refused it. */
    private static <T> Future<T> submit(Context ctx, Supplier<T> action, boolean light) {
        Promise<T> promise = Promise.promise();
        Runnable task = () -> {
            T result = null;
            Throwable failure = null;
            try {
                result = action.get();
            } catch (RuntimeException | Error e) {
                failure = e; // the request gets its answer (a 500 for an Error) instead of waiting forever
            }
            T r = result;
            Throwable f = failure;
            ctx.runOnContext(v -> {
                if (f == null) {
                    promise.complete(r);
                } else {
                    promise.fail(f);
                }
            });
        };
        boolean queued = light ? SwitchAdmin.submitLight(task) : SwitchAdmin.submit(task);
        return queued ? promise.future() : null;
    }
}
