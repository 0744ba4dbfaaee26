/** The switch daemon's HTTP side on Vert.x core: REST API, Prometheus metrics, the live page. */
module io.jnetmap.control {
    requires io.jnetmap.vale;
    requires io.jnetmap.pipes;
    requires io.vertx.core;

    exports io.jnetmap.control;
}
