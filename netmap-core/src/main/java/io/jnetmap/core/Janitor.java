package io.jnetmap.core;

import io.jnetmap.sys.Linux;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Removes what processes killed with -9 left in the region directory ({@link Region#directory()}):
 * region files (a region's magic, or a pipe region's name {@code pipe.*}) no live process maps (a region is mapped by every process that uses it, for as long as
 * it does; the check reads {@code /proc/PID/maps}, so it holds even for a region whose header a
 * hostile process overwrote), and switch counters files ({@code .vale/<switch>.<pid>.stats}) of dead
 * pids. Runs under the directory lock that region creation takes, so a region being created is never
 * taken for stale. TAP devices need nothing: they are not persistent and vanish with their last
 * descriptor; XDP programs are attached through bpf links, which the kernel releases with the process.
 *
 * <p>{@code bin/jnetmap info --gc} runs it; every process runs it once, in the background, the first
 * time it opens a pipe ({@link #sweepOnceInBackground()}).
 */
public final class Janitor {
    private static final AtomicBoolean SWEPT = new AtomicBoolean();

    private Janitor() {
    }

    /** What one sweep found: files removed, and files left because a live process maps them. */
    public record Sweep(List<String> removed, List<String> kept) {
    }

    /** Sweeps once per process, on a daemon thread; later calls do nothing. */
    public static void sweepOnceInBackground() {
        if (SWEPT.compareAndSet(false, true)) {
            Thread.ofPlatform().daemon().name("jnetmap-janitor").start(() -> {
                try {
                    sweep(false);
                } catch (RuntimeException e) {
                    // another process may be sweeping or the directory may be another user's: nothing to clean here
                }
            });
        }
    }

    /** Removes stale region and counters files now, checking every region against the maps of every process ({@code /proc/PID/maps}); returns what it did. */
    public static Sweep sweep() {
        return sweep(true);
    }

    /**
     * {@code thorough}: checks every region against the maps of every process (a users table may have
     * been overwritten); else, first and cheaply, trusts a users table that names a live process.
     */
    static Sweep sweep(boolean thorough) {
        Path dir = Region.directory();
        if (!Files.isDirectory(dir)) {
            return new Sweep(List.of(), List.of());
        }
        // a file lock is per process: this process's threads serialise on Region's lock first, as Region does
        synchronized (Region.sharedLock()) {
            return ShmDirectory.locked(dir, ".lock", () -> sweepLocked(dir, thorough));
        }
    }

    private static Sweep sweepLocked(Path dir, boolean thorough) {
        List<String> removed = new ArrayList<>();
        List<String> kept = new ArrayList<>();
        Set<String> mapped = null; // read only if some region looks stale: /proc/*/maps is long on a busy machine
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path f : ds) {
                String name = f.getFileName().toString();
                if (name.startsWith(".") || !Files.isRegularFile(f) || !(name.startsWith("pipe.") || isRegion(f))) {
                    continue; // not a region: someone else's file
                }
                if (!thorough && hasLiveUser(f)) {
                    kept.add(name);
                    continue;
                }
                if (mapped == null) {
                    mapped = mappedFiles();
                }
                if (mapped.contains(f.toAbsolutePath().toString()) || mapped.contains(realPath(f))) {
                    kept.add(name); // its users table says otherwise, but someone maps it (being created, or overwritten)
                } else if (Files.deleteIfExists(f)) {
                    removed.add(name);
                }
            }
        } catch (NoSuchFileException e) {
            return new Sweep(removed, kept);
        } catch (IOException e) {
            throw new NetmapException("cannot sweep " + dir + ": " + e, e);
        }
        Path vale = dir.resolve(".vale");
        if (Files.isDirectory(vale)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(vale, "*.stats")) {
                for (Path f : ds) {
                    int pid = statsPid(f.getFileName().toString());
                    if (pid > 0 && !Linux.processAlive(pid) && Files.deleteIfExists(f)) {
                        removed.add(".vale/" + f.getFileName());
                    }
                }
            } catch (IOException e) {
                throw new NetmapException("cannot sweep " + vale + ": " + e, e);
            }
        }
        return new Sweep(removed, kept);
    }

    /** True if the users table in {@code f}'s header names a live process (a cheap first look). */
    private static boolean hasLiveUser(Path f) {
        try (var in = Files.newInputStream(f)) {
            byte[] h = in.readNBytes((int) (RegionLayout.USERS_OFFSET + 4L * RegionLayout.USERS_MAX));
            if (h.length < RegionLayout.USERS_OFFSET + 4L * RegionLayout.USERS_MAX) {
                return false;
            }
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(h).order(java.nio.ByteOrder.nativeOrder());
            for (int i = 0; i < RegionLayout.USERS_MAX; i++) {
                int pid = b.getInt((int) RegionLayout.USERS_OFFSET + 4 * i);
                if (pid > 0 && Linux.processAlive(pid)) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            return false;
        }
    }

    /** True if {@code f} starts with a region's magic. */
    private static boolean isRegion(Path f) {
        try (var in = Files.newInputStream(f)) {
            byte[] b = in.readNBytes(8);
            return b.length == 8 && java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.nativeOrder()).getLong() == RegionLayout.MAGIC;
        } catch (IOException e) {
            return false;
        }
    }

    /** True if some process maps file {@code f} (a region in use). */
    public static boolean inUse(Path f) {
        Set<String> mapped = mappedFiles();
        return mapped.contains(f.toAbsolutePath().toString()) || mapped.contains(realPath(f));
    }

    private static String realPath(Path f) {
        try {
            return f.toRealPath().toString();
        } catch (IOException e) {
            return f.toAbsolutePath().toString();
        }
    }

    /** The pid in {@code <switch>.<pid>.stats}, or -1. */
    static int statsPid(String name) {
        String base = name.substring(0, name.length() - ".stats".length());
        int dot = base.lastIndexOf('.');
        try {
            return dot < 0 ? -1 : Integer.parseInt(base.substring(dot + 1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Every file any process (that this one may inspect) maps, by path. */
    static Set<String> mappedFiles() {
        Set<String> out = new HashSet<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString().chars().allMatch(Character::isDigit))) {
            for (Path p : procs) {
                try {
                    for (String line : Files.readAllLines(p.resolve("maps"))) {
                        int slash = line.indexOf('/');
                        if (slash > 0) {
                            String path = line.substring(slash);
                            out.add(path.endsWith(" (deleted)") ? path.substring(0, path.length() - 10) : path);
                        }
                    }
                } catch (IOException | SecurityException e) {
                    // gone meanwhile, or not ours to read: its files are not swept only if we can see them mapped
                }
            }
        } catch (IOException e) {
            throw new NetmapException("cannot list /proc: " + e, e);
        }
        return out;
    }
}
