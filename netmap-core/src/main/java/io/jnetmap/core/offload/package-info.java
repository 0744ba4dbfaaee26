/**
 * Offload work done in software: completing a checksum a host stack left partial, and cutting a TCP or
 * UDP super-frame (GSO/GRO, up to 64 KiB) into frames of one MTU, with the metadata a port carries for
 * them in a virtio-net header ({@link io.jnetmap.core.offload.VnetHeader}).
 *
 * <p>Linux hands frames to a packet socket or XDP with their L4 checksum still to be computed when they
 * come from a local stack over a virtual device (veth, TAP): the checksum field then holds the folded
 * pseudo-header sum, and {@code csum_start}/{@code csum_offset} say where the sum starts and where the
 * result goes. A port that carries a virtio-net header passes this on, so the kernel on the way out does
 * the work (or a guest, or another stack); where a frame leaves through something that wants plain
 * frames, {@link io.jnetmap.core.offload.Checksums} and {@link io.jnetmap.core.offload.Segmenter} do it
 * here. Everything works on {@link java.lang.foreign.MemorySegment} ranges and allocates nothing.
 */
package io.jnetmap.core.offload;
