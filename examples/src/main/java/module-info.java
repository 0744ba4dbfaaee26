/** The programs users run: pkt-gen, bridge, vale-ctl, demo and friends. */
module io.jnetmap.examples {
    requires io.jnetmap.core;
    requires io.jnetmap.vale;
    requires io.jnetmap.pipes;
    requires io.jnetmap.capture;
    requires io.jnetmap.middlebox;
    requires io.jnetmap.control;
    requires io.jnetmap.vhost; // vhost:PATH ports in every tool, on the module path (jlink images) too
    requires info.picocli;
    requires HdrHistogram;

    opens io.jnetmap.examples to info.picocli;

    exports io.jnetmap.examples;
    // io.jnetmap.examples.traffic (pkt-gen's and the demo's generator, sink, relay ...) is the tools' own
}
