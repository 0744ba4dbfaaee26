/** Zero-copy pipes ({@code X{ID} / {@code X}ID}), in one process and across processes, with no daemon. */
module io.jnetmap.pipes {
    requires io.jnetmap.core;

    exports io.jnetmap.pipe;

    provides io.jnetmap.core.spi.PortProvider with io.jnetmap.pipe.PipeProvider;
}
