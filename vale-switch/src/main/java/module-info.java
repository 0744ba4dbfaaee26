/** The VALE-style software switch: switches, ports, lookup modules, counters and the vale-ctl API. */
module io.jnetmap.vale {
    requires transitive io.jnetmap.core;
    requires org.jctools.core.jdk11;

    exports io.jnetmap.vale;
    exports io.jnetmap.vale.lookup;
    exports io.jnetmap.vale.ctl;

    uses io.jnetmap.vale.LookupModule;

    provides io.jnetmap.core.spi.PortProvider with io.jnetmap.vale.ValeProvider;
    provides io.jnetmap.core.spi.MonitorPublisher with io.jnetmap.vale.PortMonitors;
    provides io.jnetmap.vale.LookupModule with io.jnetmap.vale.lookup.LearningBridge;
}
