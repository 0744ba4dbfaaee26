/** jnetmap core: memory regions, rings and slots, ports and port names. */
module io.jnetmap.core {
    requires transitive io.jnetmap.pollable;

    exports io.jnetmap.core;
    exports io.jnetmap.core.spi;
    exports io.jnetmap.core.nic;
    exports io.jnetmap.core.offload;

    uses io.jnetmap.core.spi.PortProvider;

    provides io.jnetmap.core.spi.PortProvider with io.jnetmap.core.nic.NicProvider, io.jnetmap.core.MonitorProvider;
}
