/**
 * vhost-user ports: a virtio-net guest (QEMU/KVM) attached as a port, {@code vhost:PATH}, served
 * straight from the guest's memory (shared by the front-end over the Unix socket PATH).
 *
 * <p><b>Protocol.</b> Features and protocol features (REPLY_ACK, NET_MTU), SET_OWNER, SET_MEM_TABLE with
 * the region descriptors received by {@code SCM_RIGHTS} and mapped with FFM, vring
 * num/addr/base/kick/call/enable, GET_VRING_BASE on stop; a new connection after the front-end restarts.
 *
 * <p><b>Datapath.</b> Split virtqueues, the 12-byte virtio-net header, mergeable receive buffers, event
 * index / NO_NOTIFY suppression: the guest kicks only while the port's user sleeps, the port interrupts
 * the guest only when it asked. Frames are copied between guest memory and the port's buffers.
 *
 * <p><b>Trust.</b> Whatever the guest writes is checked before use; a guest that breaks the rules is cut
 * off and counted ({@link io.jnetmap.vhost.VhostStats#violations()}), the port and the switch go on.
 */
package io.jnetmap.vhost;
