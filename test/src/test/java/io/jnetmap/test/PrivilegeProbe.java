package io.jnetmap.test;

import io.jnetmap.core.Region;
import io.jnetmap.vale.ctl.Command;
import io.jnetmap.vale.ctl.ControlMailbox;

import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;

/**
 * Run as another user by {@link PrivilegeTest}: tries one thing against another user's files through
 * a directory of its own ({@code JNETMAP_DIR}) whose entries point at them, and prints {@code refused:
 * WHY} or {@code ALLOWED}.
 */
public final class PrivilegeProbe {
    public static void main(String[] args) {
        try {
            switch (args[0]) {
                case "open" -> Region.openShared(args[1]).close();
                case "map" -> {
                    try (FileChannel ch = FileChannel.open(Path.of(args[1]), StandardOpenOption.READ)) {
                        ch.map(FileChannel.MapMode.READ_ONLY, 0, 4096);
                    }
                }
                case "mailbox" -> ControlMailbox.call(Path.of(args[1]), Command.DETACH, "x:y", Duration.ofSeconds(2));
                default -> throw new IllegalArgumentException(args[0]);
            }
            System.out.println("ALLOWED");
        } catch (Exception e) {
            System.out.println("refused: " + e);
        }
    }
}
