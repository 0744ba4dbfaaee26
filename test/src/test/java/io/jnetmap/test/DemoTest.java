package io.jnetmap.test;

import io.jnetmap.core.Region;
import io.jnetmap.examples.Main;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code bin/jnetmap demo} as a user runs it: a JVM of its own, progress lines, a summary, exit 0, nothing left behind. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class DemoTest {
    @Test
    void theDemoMovesPacketsThroughPipesAndSaysSo() throws Exception {
        Process p = new ProcessBuilder(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "demo", "-t", "2")).redirectErrorStream(true).start();
        String out;
        try {
            out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        } finally {
            p.destroyForcibly();
        }
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("   1 s  pipe ") && out.contains("   2 s  pipe "), "progress every second: " + out);
        assertTrue(out.contains("summary:") && out.contains("lost 0 reordered 0"), out);
        assertTrue(out.contains("demo: OK"), out);
        assertFalse(Files.exists(Region.directory().resolve("pipe.demo" + p.pid())), "the demo's region is gone");
    }
}
