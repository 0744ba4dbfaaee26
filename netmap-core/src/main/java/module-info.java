/** jnetmap core: memory regions, rings and slots, ports and port names. */
@SuppressWarnings("module") // the qualified export below names modules built after this one
module io.jnetmap.core {
    requires transitive io.jnetmap.pollable;

    exports io.jnetmap.core;
    exports io.jnetmap.core.nic;
    // as netmap keeps netmap_kern.h apart from netmap_user.h: the port-implementer side (AbstractPort, Kring,
    // RingTap, PortProvider, SpinLock, PidLock) only for the modules that implement ports
    exports io.jnetmap.core.spi to io.jnetmap.pipes, io.jnetmap.vale, io.jnetmap.vxlan, io.jnetmap.vhost;
    exports io.jnetmap.core.offload;

    uses io.jnetmap.core.spi.PortProvider;
    uses io.jnetmap.core.spi.MonitorPublisher;

    provides io.jnetmap.core.spi.PortProvider with io.jnetmap.core.nic.NicProvider, io.jnetmap.core.MonitorProvider;
}
