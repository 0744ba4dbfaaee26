package io.jnetmap.core.nic;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;

/**
 * A second process for {@link NicErrorsTest}: opens the port named by its argument (in the namespace it
 * was started in), prints {@code OPENED <backend>} or {@code FAILED <exception class> <message>}, and
 * exits 0 or 3.
 */
public final class NicOpenChild {
    private NicOpenChild() {
    }

    public static void main(String[] args) {
        try (Port p = Netmap.open(args[0])) {
            System.out.println("OPENED " + p.backend());
            System.exit(0);
        } catch (RuntimeException e) {
            System.out.println("FAILED " + e.getClass().getName() + " " + e.getMessage());
            System.exit(3);
        }
    }
}
