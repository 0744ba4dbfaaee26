package io.jnetmap.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A shared region written by this JVM is read, and answered, by a second JVM the test starts. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SharedRegionCrossProcessTest {
    @Test
    void aSecondJvmSeesTheSameBytesAndAnswers() throws Exception {
        String name = "xproc-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        Path file;
        int packets = 10;
        try (Region region = Region.openOrCreateShared(name, new Geometry(2, 4, 64, 512, 2048))) {
            file = region.file().orElseThrow();
            NetmapIf nifp = region.allocIf(IfSpec.of("xproc", 1, 32));
            Ring tx = new Ring(region, nifp.txRingOffset(0));
            Ring rx = new Ring(region, nifp.rxRingOffset(0));
            MemorySegment m = region.memory();
            for (int i = 0; i < packets; i++) {
                m.set(JAVA_LONG, tx.bufOffset(i), 1000L + i);
                tx.setLen(i, 64);
            }
            tx.advanceTo(packets);

            String java = ProcessHandle.current().info().command().orElse("java");
            Process child = new ProcessBuilder(List.of(java, "--enable-native-access=ALL-UNNAMED",
                    "-cp", System.getProperty("java.class.path"), SharedRegionChild.class.getName(), name, "" + packets))
                    .redirectErrorStream(true).start();
            String out;
            try {
                out = new String(child.getInputStream().readAllBytes()); // ends when the child exits
                assertTrue(child.waitFor(60, TimeUnit.SECONDS), "child finished");
            } finally {
                child.destroyForcibly();
            }
            assertEquals(0, child.exitValue(), "child checks passed: " + out);
            for (int i = 0; i < packets; i++) {
                assertEquals(2000L + i, m.get(JAVA_LONG, rx.bufOffset(i)), "the child's answer in slot " + i);
                assertEquals(32, rx.len(i));
            }
            assertEquals(2, nifp.state(), "the child saw two live users: itself and this JVM");
            assertEquals(1, region.liveUsers(), "the child detached when it exited");
            region.freeIf(nifp);
        }
        assertFalse(Files.exists(file), "removed by its last user");
    }
}
