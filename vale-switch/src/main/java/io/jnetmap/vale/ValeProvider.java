package io.jnetmap.vale;

import io.jnetmap.core.NetmapException;
import io.jnetmap.core.Port;
import io.jnetmap.core.PortName;
import io.jnetmap.core.spi.PortProvider;
import io.jnetmap.vale.ctl.RemotePort;
import io.jnetmap.vale.ctl.ValeCtl;

import java.util.Set;

/**
 * Serves {@code valeS:P} and {@code vale:P}: switch S and port P are created on demand; opening an
 * existing port binds its rings again (one thread per ring, as in netmap). Options: {@code @conf:}
 * ring sizes, {@code @share=PORT} (same region as PORT: buffers move by index swap),
 * {@code @backpressure=on} (the port's packets wait for room instead of being dropped). If another
 * process hosts switch S, the port is a {@link RemotePort} into it.
 */
public final class ValeProvider implements PortProvider {
    @Override
    public Set<String> kinds() {
        return Set.of("vale");
    }

    @Override
    public Port open(PortName name) {
        Object hostOrSwitch;
        synchronized (ValeSwitches.CONFIG) {
            ValeSwitch sw = ValeSwitches.get(name.switchName()).orElse(null);
            if (sw == null) {
                ValeSwitches.checkName(name.switchName());
                // under the machine-wide lock: either another process hosts the switch, or this one does now
                hostOrSwitch = ValeSwitches.underHostLock(() -> {
                    Object h = ValeSwitches.otherHost(name.switchName()).orElse(null);
                    return h != null ? h : ValeSwitches.createLocal(name.switchName());
                });
            } else {
                hostOrSwitch = sw;
            }
            if (hostOrSwitch instanceof ValeSwitch local) {
                try {
                    return openLocal(local, name);
                } catch (RuntimeException e) {
                    local.closeIfUnused();
                    throw e;
                }
            }
        }
        // outside the lock: the host answers within a few tens of milliseconds
        return RemotePort.open(name, (ValeCtl.SwitchInfo) hostOrSwitch);
    }

    /**
     * A copy monitor {@code valeS:P/r|t|rt} of a port of switch S not open by name here: if this process
     * hosts S, of the port as the switch drives it ({@link MonitorRelay#openLocal}); if another process
     * hosts S, served by that host ({@link RemotePort#openMonitor}); null if no process hosts S.
     */
    @Override
    public Port openMonitor(PortName name) {
        synchronized (ValeSwitches.CONFIG) {
            ValeSwitch sw = ValeSwitches.get(name.switchName()).orElse(null);
            if (sw != null) {
                return MonitorRelay.openLocal(sw, name);
            }
        }
        ValeCtl.SwitchInfo host = ValeSwitches.otherHost(name.switchName()).orElse(null);
        return host == null ? null : RemotePort.openMonitor(name, host);
    }

    /** Opens (or creates) VALE port {@code name} on switch {@code sw} of this process. Under ValeSwitches.CONFIG. */
    private static Port openLocal(ValeSwitch sw, PortName name) {
        SwitchPort existing = sw.port(name.base()).orElse(null);
        VirtualPort vp;
        if (existing == null) {
            vp = VirtualPort.create(sw, name);
        } else if (existing instanceof VirtualPort v) {
            vp = v;
        } else {
            throw new NetmapException.PortBusy("cannot open " + name.text() + ": " + existing.fullName()
                    + " is an attached " + existing.backend() + " port, driven by the switch", null);
        }
        try {
            return vp.open(name);
        } catch (RuntimeException e) {
            if (existing == null) {
                vp.destroyPersistent();
            }
            throw e;
        }
    }
}
