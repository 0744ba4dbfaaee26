package io.jnetmap.core;

import io.jnetmap.core.spi.PortProvider;

import java.util.Set;

/** Serves monitor names ({@code PORT/r}, {@code /t}, {@code /rt}; zero-copy {@code /z}, {@code /zr}, {@code /zt}) for ports open in this process. */
public final class MonitorProvider implements PortProvider {
    @Override
    public Set<String> kinds() {
        return Set.of("monitor");
    }

    @Override
    public Port open(PortName name) {
        String watched = name.monitored();
        Port target = Netmap.findOpen(watched);
        if (target == null || target.isClosed()) {
            throw new NetmapException("cannot open monitor \"" + name + "\": " + watched
                    + " is not open in this process (a monitor watches a port of its own process: open "
                    + watched + " first)");
        }
        return MonitorPort.open(name, target);
    }
}
