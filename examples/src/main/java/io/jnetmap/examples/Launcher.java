package io.jnetmap.examples;

import java.util.Arrays;

/**
 * What {@code bin/jnetmap} starts. {@code capture} and {@code replay} go straight to their tool, which reads its own
 * command line; every other tool goes through {@link Main}'s picocli dispatcher. Building that dispatcher means
 * reflecting over every tool (Vert.x and Netty types included) and costs more than a tcpdump run, so a
 * {@code capture -r FILE} must not pay for it. This class refers to no picocli type, so loading it loads none.
 */
public final class Launcher {
    private Launcher() {
    }

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("capture")) {
            int code = Capture.run(Arrays.copyOfRange(args, 1, args.length), System.out, System.err);
            System.out.flush();
            if (code != 0) {
                System.exit(code);
            }
            return; // not System.exit(0): Runtime.exit starts the JDK's logging to log the exit, some 20-50 ms
        }
        Main.main(args);
    }
}
