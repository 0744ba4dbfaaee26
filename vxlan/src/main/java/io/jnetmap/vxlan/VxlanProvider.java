package io.jnetmap.vxlan;

import io.jnetmap.core.Geometry;
import io.jnetmap.core.IfSpec;
import io.jnetmap.core.NetmapException;
import io.jnetmap.core.NetmapIf;
import io.jnetmap.core.Port;
import io.jnetmap.core.PortName;
import io.jnetmap.core.Region;
import io.jnetmap.core.spi.PortProvider;
import io.jnetmap.sys.Udp;

import java.util.Set;

/** Serves {@code vxlan:SPEC} ports ({@link VxlanSpec}), each in a private region of its own. */
public final class VxlanProvider implements PortProvider {
    @Override
    public Set<String> kinds() {
        return Set.of("vxlan");
    }

    @Override
    public Port open(PortName name) {
        VxlanSpec spec = VxlanSpec.parse(name.base());
        if (name.option("share") != null || name.option("backend") != null) {
            throw new NetmapException(name.text() + ": @share= and @backend= do not apply to vxlan ports");
        }
        int txSlots = name.conf("tx-slots", "slots", Geometry.DEFAULT_SLOTS);
        int rxSlots = name.conf("rx-slots", "slots", Geometry.DEFAULT_SLOTS);
        int bufSize = name.conf("buf-size", Geometry.DEFAULT_BUF_SIZE);
        Region region = Region.createPrivate(Geometry.forRings(1, 2, Math.max(txSlots, rxSlots),
                name.conf("extra-bufs", 0), 0, bufSize));
        VxlanSocket socket = null;
        NetmapIf nifp = null;
        VxlanPort p = null;
        try {
            nifp = region.allocIf(new IfSpec("vxlan" + spec.vni() + "@" + Udp.formatIpv4(spec.localIp()) + ":" + spec.localPort(),
                    VxlanPort.KIND, 1, 1, 0, 0, txSlots, rxSlots, name.conf("extra-bufs", 0)));
            socket = VxlanSocket.acquire(spec);
            p = new VxlanPort(name, nifp, spec, socket);
            socket.register(p);
            return p;
        } catch (RuntimeException e) {
            if (p != null) {
                p.close(); // gives back the socket reference, the descriptor and the region
            } else {
                if (socket != null) {
                    socket.release(null);
                }
                if (nifp != null) {
                    region.freeIf(nifp);
                }
                region.close();
            }
            throw e;
        }
    }
}
