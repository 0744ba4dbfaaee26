package io.jnetmap.vale;

import io.jnetmap.core.NetmapIf;
import io.jnetmap.core.PortName;
import io.jnetmap.core.spi.AbstractPort;
import io.jnetmap.core.spi.Kring;

/**
 * One open of a VALE port ({@code valeS:P}), the {@link io.jnetmap.core.Port} a user holds. txsync
 * forwards the new TX slots through the switch (all of them: VALE's TX is synchronous, {@code tail}
 * is back at {@code head - 1} when it returns, unless the port is back-pressured and a destination is
 * full); rxsync returns released RX slots and takes the packets senders published.
 */
final class ValeBinding extends AbstractPort {
    private final VirtualPort vp;
    private final Kring[] krings;

    ValeBinding(PortName name, VirtualPort vp, NetmapIf nifp) {
        super(name, nifp, "vale");
        this.vp = vp;
        this.krings = new Kring[txRings() + rxRings()];
        for (int i = 0; i < txRings(); i++) {
            krings[i] = txKring(i);
        }
        for (int i = 0; i < rxRings(); i++) {
            krings[txRings() + i] = rxKring(i);
        }
        for (Kring k : krings) {
            vp.bind(k);
        }
    }

    /** The switch port behind this open. */
    SwitchPort switchPort() {
        return vp;
    }

    @Override
    protected void txsync(Kring k) {
        vp.txsync(k);
    }

    @Override
    protected void rxsync(Kring k) {
        vp.rxsync(k);
    }

    /** TX slots are read when forwarded, RX slots written only past hwcur: a zero-copy monitor ({@code vale0:a/z}) can sit in between. */
    @Override
    public boolean supportsZeroCopyMonitor() {
        return true;
    }

    @Override
    protected boolean freesDescriptorOnClose() {
        return false; // the descriptor is the port's, shared by every open; freed when the port goes
    }

    @Override
    protected void onClose() {
        synchronized (ValeSwitches.CONFIG) {
            vp.closed(this, krings);
        }
    }
}
