/** The programs users run: pkt-gen, bridge, vale-ctl, demo and friends. */
module io.jnetmap.examples {
    requires io.jnetmap.core;
    requires io.jnetmap.vale;

    exports io.jnetmap.examples;
}
