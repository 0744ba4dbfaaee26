/**
 * netmap pipes: {@code X{ID} (master) and {@code X}ID} (slave) are two ports cross-connected so that
 * what one sends on TX ring k the other receives on RX ring k, by moving buffer indices (zero copy),
 * with back-pressure instead of drops, and only complete packets ({@code NS_MOREFRAG}) published.
 *
 * <p><b>Memory.</b> Every pipe of parent X lives in the shared region {@code pipe.X} (a file under
 * {@code /dev/shm/jnetmap}); two processes that open the two ends meet there with no daemon. Slot k of
 * a TX ring mirrors slot k of the other end's RX ring; each end's sync writes only the slots the ring
 * protocol gives the backend, and publishes with one release store per batch ({@link
 * io.jnetmap.pipe.PipeLayout}).
 *
 * <p><b>Wake-ups.</b> Each end has an eventfd; the other end signals it only while this end's user
 * armed its need-wake-up flag, using a duplicate obtained with {@code pidfd_getfd}, or by SCM_RIGHTS
 * from the peer process's {@code WakeFdServer} thread where pidfd_getfd is refused (no daemon
 * process). Two busy ends exchange packets with no system call.
 *
 * <p><b>Trust.</b> The other end may be another process: whatever it writes is checked before use, and a
 * violation cuts the pipe off ({@link io.jnetmap.pipe.PipeBrokenException}).
 */
package io.jnetmap.pipe;
