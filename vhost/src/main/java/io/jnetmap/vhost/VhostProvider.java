package io.jnetmap.vhost;

import io.jnetmap.core.Geometry;
import io.jnetmap.core.IfSpec;
import io.jnetmap.core.NetmapIf;
import io.jnetmap.core.Port;
import io.jnetmap.core.PortName;
import io.jnetmap.core.Region;
import io.jnetmap.core.spi.PortProvider;

import java.util.Set;

/**
 * Serves {@code vhost:PATH} (listen on PATH) and {@code vhost:client:PATH} (connect to PATH, retrying):
 * one ring pair in a private region of its own (frames are copied to and from guest memory).
 * {@code @conf:slots=N} and {@code @conf:buf-size=N} set the geometry.
 */
public final class VhostProvider implements PortProvider {
    @Override
    public Set<String> kinds() {
        return Set.of("vhost");
    }

    @Override
    public Port open(PortName pn) {
        String spec = pn.base(); // what follows "vhost:" (PortName.Body.SPEC)
        boolean client = spec.startsWith("client:");
        String path = client ? spec.substring("client:".length()) : spec;
        if (path.isEmpty()) {
            throw new IllegalArgumentException(pn.text() + ": no socket path (expected: vhost:PATH or vhost:client:PATH)");
        }
        for (String key : pn.conf().keySet()) {
            if (!key.equals("slots") && !key.equals("tx-slots") && !key.equals("rx-slots") && !key.equals("buf-size")
                    && !key.equals("bufs")) {
                throw new IllegalArgumentException(pn.text() + ": conf " + key
                        + " (expected: slots, tx-slots, rx-slots, buf-size or bufs: a vhost port has one ring pair)");
            }
        }
        if (pn.option("share") != null) {
            throw new IllegalArgumentException(pn.text() + ": share= (expected: none; a vhost port copies into a region of its own)");
        }
        int txSlots = pn.conf("tx-slots", "slots", Geometry.DEFAULT_SLOTS);
        int rxSlots = pn.conf("rx-slots", "slots", Geometry.DEFAULT_SLOTS);
        int bufSize = pn.conf("buf-size", Geometry.DEFAULT_BUF_SIZE);
        if (bufSize < 1536) {
            throw new IllegalArgumentException(pn.text() + ": buf-size=" + bufSize + " (expected: >= 1536, a full Ethernet frame)");
        }
        int bufs = pn.conf("bufs", 2 * (txSlots + rxSlots) + 2);
        Region region = Region.createPrivate(new Geometry(1, 2, Math.max(txSlots, rxSlots), bufs, bufSize));
        NetmapIf nifp;
        try {
            nifp = region.allocIf(new IfSpec(pn.withoutOptions(), VhostPort.KIND, 1, 1, 0, 0, txSlots, rxSlots, 0));
        } catch (RuntimeException e) {
            region.close();
            throw e;
        }
        try {
            return new VhostPort(pn, nifp, path, client);
        } catch (RuntimeException e) {
            region.freeIf(nifp);
            region.close();
            throw e;
        }
    }
}
