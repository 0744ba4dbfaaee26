package io.jnetmap.pipe;

import io.jnetmap.core.ShmDirectory;

import java.util.function.Supplier;

/**
 * Serialises opening and closing of pipe ends across threads and processes (a JVM monitor plus a
 * file lock next to the regions), so that two processes opening the two ends of a new pipe at the same
 * moment create one pair of descriptors, not two. Open/close time only.
 */
final class PipeLock {
    private static final Object JVM_LOCK = new Object();

    private PipeLock() {
    }

    static <T> T locked(Supplier<T> body) {
        synchronized (JVM_LOCK) {
            return ShmDirectory.locked(".pipes.lock", body);
        }
    }
}
