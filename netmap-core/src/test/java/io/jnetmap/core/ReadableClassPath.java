package io.jnetmap.core;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * This JVM's class path copied where any user can read it (jars in a temporary folder, class
 * directories merged under {@code dirs/}), for child JVMs that a test starts as another user (the
 * build's own files may sit under a home directory only root can read). Removed on close.
 */
public final class ReadableClassPath implements AutoCloseable {
    private final Path top;

    private ReadableClassPath(Path top) {
        this.top = top;
    }

    public static ReadableClassPath copy() throws IOException {
        Path top = Files.createTempDirectory("jnetmap-cp");
        ReadableClassPath cp = new ReadableClassPath(top);
        try {
            Path dirs = Files.createDirectory(top.resolve("dirs"));
            for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
                Path src = Path.of(e);
                if (Files.isDirectory(src)) {
                    try (Stream<Path> s = Files.walk(src)) {
                        for (Path f : (Iterable<Path>) s::iterator) {
                            Path dst = dirs.resolve(src.relativize(f).toString());
                            if (Files.isDirectory(f)) {
                                Files.createDirectories(dst);
                            } else if (!Files.exists(dst)) {
                                Files.copy(f, dst);
                            }
                        }
                    }
                } else if (Files.isRegularFile(src)) {
                    Files.copy(src, top.resolve(src.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            try (Stream<Path> s = Files.walk(top)) {
                for (Path f : (Iterable<Path>) s::iterator) {
                    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(Files.isDirectory(f) ? "rwxr-xr-x" : "rw-r--r--"));
                }
            }
            return cp;
        } catch (IOException | RuntimeException e) {
            cp.close();
            throw e;
        }
    }

    /** The {@code -cp} value for the child. */
    public String classPath() {
        return top + File.separator + "*" + File.pathSeparator + top.resolve("dirs");
    }

    @Override
    public void close() {
        try (Stream<Path> s = Files.walk(top)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
