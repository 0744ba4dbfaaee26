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
            Children.Ended end = Children.finish(child, 60);
            assertEquals(0, end.exitCode(), "child checks passed: " + end.output());
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

    @Test
    void aRegionDirectoryOfAnotherUserIsAClearPermissionError() throws Exception {
        assertEquals(0, io.jnetmap.sys.Linux.geteuid(), "this test starts a child as uid 65534 and must run as root");
        Path dir = Files.createTempDirectory("jnetmap-root-dir");
        try (ReadableClassPath cp = ReadableClassPath.copy()) {
            Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            ProcessBuilder pb = new ProcessBuilder(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
                    ProcessHandle.current().info().command().orElse("java"), "--enable-native-access=ALL-UNNAMED", "-XX:-UsePerfData",
                    "-cp", cp.classPath(), SharedRegionChild.class.getName(), "anyregion", "1")).redirectErrorStream(true);
            pb.environment().put("JNETMAP_DIR", dir.toString());
            Children.Ended end = Children.finish(pb.start(), 60);
            String out = end.output();
            assertEquals(3, end.exitCode(), out);
            assertTrue(out.contains("NetmapException$PermissionDenied: cannot lock region directory " + dir), out);
            assertTrue(out.contains("uid 65534") && out.contains("JNETMAP_DIR="), "says how to use a directory of one's own: " + out);
            try (var files = Files.list(dir)) {
                assertEquals(0, files.count(), "nothing created in another user's directory");
            }
        } finally {
            Files.delete(dir);
        }
    }
}
