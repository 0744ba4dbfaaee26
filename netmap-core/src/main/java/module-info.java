/** jnetmap core: memory regions, rings and slots, ports and port names. */
module io.jnetmap.core {
    requires transitive io.jnetmap.pollable;

    exports io.jnetmap.core;
    exports io.jnetmap.core.spi;

    uses io.jnetmap.core.spi.PortProvider;
}
