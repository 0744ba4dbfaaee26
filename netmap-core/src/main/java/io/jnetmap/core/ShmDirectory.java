package io.jnetmap.core;

import io.jnetmap.sys.Linux;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Supplier;

/**
 * The directory where shared regions and the other shared files of jnetmap live ({@code $JNETMAP_DIR},
 * else the system property {@code jnetmap.dir}, else {@code /dev/shm/jnetmap}), and the machine-wide
 * file locks kept in it. Processes that share ports must use the same directory.
 */
public final class ShmDirectory {
    private ShmDirectory() {
    }

    /** The directory: {@code $JNETMAP_DIR}, else {@code -Djnetmap.dir}, else {@code /dev/shm/jnetmap}. */
    public static Path path() {
        String dir = System.getenv("JNETMAP_DIR");
        if (dir == null || dir.isEmpty()) {
            dir = System.getProperty("jnetmap.dir", "/dev/shm/jnetmap");
        }
        return Path.of(dir);
    }

    /**
     * Runs {@code body} holding the file lock {@code lockFile} of the directory (both created if
     * needed): a machine-wide lock for open/close-time work that several processes must not interleave.
     * Callers serialise their own threads (a file lock is per process).
     */
    public static <T> T locked(String lockFile, Supplier<T> body) {
        return locked(path(), lockFile, body);
    }

    /** As {@link #locked(String, Supplier)}, in directory {@code dir}. */
    public static <T> T locked(Path dir, String lockFile, Supplier<T> body) {
        try {
            Files.createDirectories(dir);
            try (FileChannel ch = FileChannel.open(dir.resolve(lockFile), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = ch.lock()) {
                return body.get();
            }
        } catch (IOException e) {
            throw error("cannot lock region directory " + dir + " (" + lockFile + ")", e);
        }
    }

    /**
     * The error for a directory this process may not use: for a directory another user made (e.g.
     * root's /dev/shm/jnetmap), a {@link NetmapException.PermissionDenied} that says how to use a
     * directory of one's own.
     */
    static NetmapException error(String what, IOException e) {
        if (e instanceof AccessDeniedException) {
            return new NetmapException.PermissionDenied(what + ": permission denied for uid " + Linux.geteuid()
                    + " (the directory belongs to another user); use a directory of your own for shared regions,"
                    + " e.g. JNETMAP_DIR=/dev/shm/jnetmap-$USER (processes that share ports must use the same one)", e);
        }
        return new NetmapException(what + ": " + e, e);
    }
}
