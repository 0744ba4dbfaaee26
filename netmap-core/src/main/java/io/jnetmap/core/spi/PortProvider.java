package io.jnetmap.core.spi;

import io.jnetmap.core.Port;
import io.jnetmap.core.PortName;

import java.util.Set;

/**
 * A module's entry point for the ports it serves, found with {@link java.util.ServiceLoader}
 * ({@code provides io.jnetmap.core.spi.PortProvider with ...} and a {@code META-INF/services} entry),
 * so {@code netmap-core} never depends on the modules that implement port kinds.
 */
public interface PortProvider {
    /**
     * The port kinds served, matched against {@link PortName#kind()}: {@code "netmap"}, {@code "vale"},
     * {@code "pipe"}, {@code "monitor"}. Two providers may not serve the same kind.
     */
    Set<String> kinds();

    /** Opens the port; failures are {@link io.jnetmap.core.NetmapException}s with a clear message. */
    Port open(PortName name);

    /**
     * Opens copy monitor {@code name} ({@code PORT/r}, {@code /t}, {@code /rt}) of a port of this
     * provider's kind that is not open in this process: one that lives elsewhere (a port of a switch
     * hosted by another process) or one this provider drives without an open by name (a port attached
     * to a switch). Returns null when it knows no such port; then the monitor cannot be opened. A
     * monitor served this way never holds the watched port back: what it cannot take is dropped.
     */
    default Port openMonitor(PortName name) {
        return null;
    }
}
