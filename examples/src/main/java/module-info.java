/** The programs users run: pkt-gen, bridge, vale-ctl, demo and friends. */
module io.jnetmap.examples {
    requires io.jnetmap.core;

    exports io.jnetmap.examples;
}
