/** VXLAN tunnel ports (RFC 7348), {@code vxlan:local=ADDR[:PORT],vni=N,remote=ADDR...}: a switch joins an overlay. */
module io.jnetmap.vxlan {
    requires io.jnetmap.core;

    exports io.jnetmap.vxlan;

    provides io.jnetmap.core.spi.PortProvider with io.jnetmap.vxlan.VxlanProvider;
}
