/**
 * Readiness shared by every port: {@link io.jnetmap.poll.Pollable} is netmap's select()-able
 * descriptor, backed by a real file descriptor (an eventfd for software ports, the socket or TAP fd for
 * kernel-backed ones), so one epoll loop serves any mix of ports and ordinary descriptors.
 *
 * <p>Wake-ups follow the virtio/CSB idea: a consumer about to sleep raises a need-wake-up flag in the
 * shared ring memory; a producer makes the wake-up system call only while that flag is up. Busy sides
 * therefore exchange packets with no system call at all.
 */
package io.jnetmap.poll;
