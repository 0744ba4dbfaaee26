package io.jnetmap.control;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Debian packages a test needs: installed with apt-get when their command is missing (never skipped). */
final class Packages {
    private Packages() {
    }

    static void ensure(String command, String pkg) throws IOException, InterruptedException {
        for (String dir : new String[] {"/usr/bin", "/usr/sbin", "/bin", "/usr/local/bin"}) {
            if (Files.isExecutable(Path.of(dir, command))) {
                return;
            }
        }
        Process p = new ProcessBuilder("sh", "-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
                + "--no-install-recommends " + pkg).inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IllegalStateException("apt-get install " + pkg + " failed (exit " + p.exitValue() + ")");
        }
    }
}
