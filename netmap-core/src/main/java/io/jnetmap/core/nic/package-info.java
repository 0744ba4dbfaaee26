/**
 * NIC ports ({@code netmap:IF}, {@code netmap:IF-N}) and host-stack ports ({@code netmap:IF^},
 * {@code netmap:IF*}) on the kernel's own packet interfaces, with raw system calls only.
 *
 * <p><b>AF_XDP</b> (default): per interface, an XSKMAP and a six-instruction program that redirects each
 * packet to the socket of its receive queue, loaded with {@code bpf()} and attached with a bpf link
 * ({@link io.jnetmap.core.nic.XdpProgram}); per queue, one socket whose UMEM is the region's whole
 * buffer pool, so frames are received into and sent from region buffers
 * ({@link io.jnetmap.core.nic.XskQueue}). Sockets bind in copy mode: zero copy would need frames at a
 * 256-byte offset inside their buffers, and netmap slots have none.
 *
 * <p><b>AF_PACKET</b> (fallback, {@code @backend=packet}): a TPACKET_V3 receive ring and {@code sendmmsg}
 * ({@link io.jnetmap.core.nic.PacketQueue}). <b>TAP</b> for host-stack rings
 * ({@link io.jnetmap.core.nic.TapQueue}); while the host rings of a NIC are open, the TAP carries the
 * NIC's MAC, addresses and routes ({@link io.jnetmap.core.nic.HostIdentity}, over rtnetlink).
 *
 * <p>Every queue makes at most one system call per sync when it has work (TAP: one per frame, the
 * device has no batched form), none when it has not, and allocates nothing per packet. Which backend a
 * port uses is {@link io.jnetmap.core.Port#backend()}; every tool prints it.
 */
package io.jnetmap.core.nic;
