/** vhost-user back-end: a virtio-net guest (QEMU/KVM) as a port, {@code vhost:PATH}. */
module io.jnetmap.vhost {
    requires io.jnetmap.core;

    exports io.jnetmap.vhost;

    provides io.jnetmap.core.spi.PortProvider with io.jnetmap.vhost.VhostProvider;
}
