/** The VALE-style software switch: switches, ports, lookup modules, counters and the vale-ctl API. */
module io.jnetmap.vale {
    requires transitive io.jnetmap.core;

    exports io.jnetmap.vale;

    provides io.jnetmap.core.spi.PortProvider with io.jnetmap.vale.ValeProvider;
}
