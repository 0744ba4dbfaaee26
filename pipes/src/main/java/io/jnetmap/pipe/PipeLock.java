package io.jnetmap.pipe;

import io.jnetmap.core.NetmapException;
import io.jnetmap.core.Region;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
        Path dir = Region.directory();
        synchronized (JVM_LOCK) {
            try {
                Files.createDirectories(dir);
                try (FileChannel ch = FileChannel.open(dir.resolve(".pipes.lock"),
                        StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                     FileLock ignored = ch.lock()) {
                    return body.get();
                }
            } catch (IOException e) {
                throw new NetmapException("cannot lock " + dir.resolve(".pipes.lock") + ": " + e, e);
            }
        }
    }
}
