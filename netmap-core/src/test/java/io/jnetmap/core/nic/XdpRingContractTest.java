package io.jnetmap.core.nic;

/** The ring contract on AF_XDP NIC ports (copy mode, generic XDP on veth). */
class XdpRingContractTest extends NicRingContractTest {
    @Override
    protected String backend() {
        return "xdp";
    }

    @Override
    protected String expectedBackend() {
        return "af_xdp/copy/";
    }
}
