/**
 * The Linux system layer of jnetmap (every system call, through FFM, in {@code io.jnetmap.sys}) and
 * the readiness abstraction shared by every port ({@code io.jnetmap.poll}).
 */
module io.jnetmap.pollable {
    exports io.jnetmap.sys;
    exports io.jnetmap.poll;
}
