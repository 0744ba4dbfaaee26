package io.jnetmap.core.nic;

/** The ring contract on AF_PACKET NIC ports (TPACKET_V3 RX ring, sendmmsg TX). */
class PacketRingContractTest extends NicRingContractTest {
    @Override
    protected String backend() {
        return "packet";
    }

    @Override
    protected String expectedBackend() {
        return "af_packet/tpacket_v3";
    }
}
