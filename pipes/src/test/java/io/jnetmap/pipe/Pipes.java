package io.jnetmap.pipe;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Region;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/** Helpers of the pipe tests: parents unique to each test, so runs never share a region. */
final class Pipes {
    private static final AtomicInteger NEXT = new AtomicInteger();

    private Pipes() {
    }

    /** A pipe parent no other test (in this or another process) uses. */
    static String uniqueParent() {
        return "t" + ProcessHandle.current().pid() + "n" + NEXT.incrementAndGet() + "x" + (System.nanoTime() & 0xffffff);
    }

    /** The file of {@code parent}'s region. */
    static Path regionFile(String parent) {
        return Region.directory().resolve(PipeLayout.regionName(parent));
    }

    static boolean regionExists(String parent) {
        return Files.exists(regionFile(parent));
    }

    /** User + system CPU time of thread {@code tid} of this process, in clock ticks (utime, stime of /proc/.../stat). */
    static long cpuTicks(long tid) {
        try {
            String stat = Files.readString(Path.of("/proc/self/task/" + tid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    static PipePort open(String name) {
        return (PipePort) Netmap.open(name);
    }
}
