package io.jnetmap.test;

import io.jnetmap.core.Geometry;
import io.jnetmap.core.IfSpec;
import io.jnetmap.core.NetmapIf;
import io.jnetmap.core.Region;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * docs/jnetmap.h describes the same bytes as the Java layouts: a C program compiled against it (gcc,
 * -Werror, with the header's static asserts) attaches to a region Java wrote, checks it, and answers.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CHeaderTest {
    @TempDir
    Path tmp;

    @Test
    void aCProgramAttachesWithTheHeaderAlone() throws Exception {
        Path root = Path.of(System.getProperty("user.dir")).getParent();
        Path exe = tmp.resolve("attach");
        run(List.of("gcc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-O2", "-I", root.resolve("docs").toString(),
                "-o", exe.toString(), root.resolve("test/src/test/c/attach.c").toString()), 0);

        String name = "ctest-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        int packets = 7;
        try (Region region = Region.openOrCreateShared(name, new Geometry(2, 4, 32, 256, 2048))) {
            NetmapIf nifp = region.allocIf(IfSpec.of("cport", 1, 16));
            MemorySegment m = region.memory();
            long tx = nifp.txRingOffset(0);
            long rx = nifp.rxRingOffset(0);
            for (int i = 0; i < packets; i++) {
                long slot = tx + 1024 + 16L * i;
                m.set(JAVA_LONG, region.bufOffset(m.get(JAVA_INT, slot)), 1000L + i);
                m.set(JAVA_SHORT, slot + 4, (short) 64);
            }
            m.set(JAVA_INT, tx + 128, packets); // head
            String out = run(List.of(exe.toString(), region.file().orElseThrow().toString(), "" + packets), 0);
            assertTrue(out.contains("attach: ok"), out);
            for (int i = 0; i < packets; i++) {
                long slot = rx + 1024 + 16L * i;
                assertEquals(5000L + i, m.get(JAVA_LONG, region.bufOffset(m.get(JAVA_INT, slot))));
                assertEquals(48, m.get(JAVA_SHORT, slot + 4));
                assertEquals(2, m.get(JAVA_SHORT, slot + 6), "NS_REPORT");
            }
            assertEquals(packets, m.get(JAVA_INT, rx + 256), "tail written by C");
            region.freeIf(nifp);
        }
    }

    private static String run(List<String> cmd, int expectedExit) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out;
        try {
            out = new String(p.getInputStream().readAllBytes());
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), cmd + " finished");
        } finally {
            p.destroyForcibly();
        }
        assertEquals(expectedExit, p.exitValue(), cmd + ": " + out);
        return out;
    }
}
