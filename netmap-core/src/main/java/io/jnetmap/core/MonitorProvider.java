package io.jnetmap.core;

import io.jnetmap.core.spi.MonitorPublisher;
import io.jnetmap.core.spi.PortProvider;

import java.util.Set;

/**
 * Serves monitor names ({@code PORT/r}, {@code /t}, {@code /rt}; zero-copy {@code /z}, {@code /zr},
 * {@code /zt}): of a port open in this process directly ({@link MonitorPort}); copy monitors of any
 * other port through the provider of the watched port's kind
 * ({@link PortProvider#openMonitor}), which may reach the process that drives it (a switch's host
 * serves monitors of its ports to other processes).
 */
public final class MonitorProvider implements PortProvider {
    @Override
    public Set<String> kinds() {
        return Set.of("monitor");
    }

    @Override
    public Port open(PortName name) {
        String watched = name.monitored();
        Port target = Netmap.findOpen(watched);
        if (target != null && !target.isClosed()) {
            return MonitorPort.open(name, target);
        }
        if (name.hasFlag(PortName.ZCOPY_MONITOR)) {
            throw new NetmapException("cannot open monitor \"" + name + "\": " + watched + " is not open in this process,"
                    + " and a zero-copy monitor (/z) sits in the path of a port of its own process; open " + watched
                    + " here first, or use a copy monitor /r, /t or /rt");
        }
        PortProvider owner = Netmap.provider(PortName.parse(watched).kind());
        Port remote = owner == null ? null : owner.openMonitor(name);
        if (remote != null) {
            return remote;
        }
        MonitorPublisher mp = Netmap.publisher();
        Port published = mp == null ? null : mp.openMonitor(name);
        if (published != null) {
            return published;
        }
        throw new NetmapException("cannot open monitor \"" + name + "\": " + watched
                + " is not open in this process nor in any live process publishing monitors (monitors reach"
                + " a port of this process, a pipe end or NIC port open in another jnetmap process, or a port of"
                + " a VALE switch wherever its host runs: open " + watched + " first)");
    }
}
