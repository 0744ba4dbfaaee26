package io.jnetmap.examples;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Ctrl-C (SIGINT, SIGTERM) for a tool that must finish cleanly: the signal runs {@code stop}, then
 * holds the JVM's exit until the tool has closed this (summary printed, ports closed, so that shared
 * region files go away with them), for at most {@code graceSeconds}.
 */
final class StopOnSignal implements AutoCloseable {
    private final CountDownLatch finished = new CountDownLatch(1);
    private final Thread hook;

    StopOnSignal(String name, Runnable stop, long graceSeconds) {
        hook = new Thread(() -> {
            stop.run();
            try {
                finished.await(graceSeconds, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, name);
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** The tool is done: a signal from now on exits at once. */
    @Override
    public void close() {
        finished.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the signal came: the hook is running and was waiting for this
        }
    }
}
