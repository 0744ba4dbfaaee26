package io.jnetmap.core.spi;

import io.jnetmap.core.Port;
import io.jnetmap.core.PortName;

/**
 * Publishes copy monitors of this process's pipe ends and NIC ports to other processes, and reaches
 * those other processes publish ({@code capture -i pipe{3/rt} in a process that does not hold
 * {@code pipe{3}). At most one is loaded ({@link java.util.ServiceLoader}); without one, monitors reach
 * only ports of their own process and of VALE switches.
 */
public interface MonitorPublisher {
    /**
     * Called by {@link io.jnetmap.core.Netmap#open} after {@code port} (a pipe end or NIC port) opened:
     * from now on this process answers other processes' requests for monitors of it, for as long as it
     * stays open. Must not fail the open: problems are reported once on stderr.
     */
    void published(Port port);

    /**
     * Copy monitor {@code name} ({@code PORT/r|t|rt}) of a port open in another process that publishes
     * it, relayed by that process into a pipe this process reads; null when no live process publishes
     * the port.
     */
    Port openMonitor(PortName name);
}
