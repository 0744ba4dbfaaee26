package io.jnetmap.core;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Child processes of tests: wait for one with a deadline, collect its output, never leave it running. */
public final class Children {
    private Children() {
    }

    /** How a child ended: exit code and everything it printed (stdout and, if redirected there, stderr). */
    public record Ended(int exitCode, String output) {
    }

    /** Waits up to {@code seconds} for {@code p} to exit (failing the test if it does not) and kills it in any case. */
    public static Ended finish(Process p, int seconds) throws InterruptedException {
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        try {
            assertTrue(p.waitFor(seconds, TimeUnit.SECONDS), "child " + p.pid() + " finished within " + seconds + " s");
            return new Ended(p.exitValue(), out.get(10, TimeUnit.SECONDS));
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new AssertionError("output of child " + p.pid(), e);
        } finally {
            p.destroyForcibly();
        }
    }
}
