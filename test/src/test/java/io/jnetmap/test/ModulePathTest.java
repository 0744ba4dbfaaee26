package io.jnetmap.test;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The modules work for users on the module path: every port kind is found through {@code provides},
 * and native access granted to the two modules that make system calls is enough (no restricted-method
 * warning from any other module).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ModulePathTest {
    @Test
    void toolsRunAsModulesWithNarrowNativeAccess() throws Exception {
        Path lib = Path.of(System.getProperty("user.dir")).getParent().resolve("examples/target/lib");
        assertTrue(Files.isDirectory(lib), lib + " is built before this module's tests");
        String java = ProcessHandle.current().info().command().orElse("java");
        for (List<String> tool : List.of(List.of("info"), List.of("demo", "-t", "1"))) {
            List<String> cmd = new java.util.ArrayList<>(List.of(java, "--enable-native-access=io.jnetmap.pollable,io.jnetmap.core",
                    "--module-path", lib.toString(), "-m", "io.jnetmap.examples/io.jnetmap.examples.Main"));
            cmd.addAll(tool);
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out;
            try {
                out = new String(p.getInputStream().readAllBytes());
                assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            } finally {
                p.destroyForcibly();
            }
            assertEquals(0, p.exitValue(), tool + ": " + out);
            assertFalse(out.contains("WARNING"), tool + " printed a warning: " + out);
            if (tool.get(0).equals("info")) {
                for (String kind : List.of("monitor", "netmap", "pipe", "vale", "vhost")) {
                    assertTrue(out.contains("  " + kind + " "), "kind " + kind + " found through provides: " + out);
                }
            } else {
                assertTrue(out.contains("every packet arrived once and in order"), out);
            }
        }
    }
}
