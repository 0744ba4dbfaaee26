/**
 * netmap's model on the JVM.
 *
 * <p><b>Memory.</b> A {@link io.jnetmap.core.Region} is one contiguous segment (private, or a shared
 * file under {@code /dev/shm/jnetmap}) with a header, interface descriptors
 * ({@link io.jnetmap.core.NetmapIf}), rings ({@link io.jnetmap.core.Ring}) and a pool of fixed-size
 * buffers addressed by index. Everything refers to everything else by offset or index, so the bytes mean
 * the same in every process that maps them; the layouts are published in the {@code *Layout} classes and
 * in {@code docs/jnetmap.h}.
 *
 * <p><b>Ownership.</b> In a ring, the user owns slots {@code [head, tail)} and the backend
 * {@code [tail, head)}; {@code head}/{@code cur} are written only by the user, {@code tail} only by the
 * backend, inside a sync run by the user's thread ({@link io.jnetmap.core.spi.Kring}). One slot always
 * stays empty.
 *
 * <p><b>Memory order.</b> {@code head}, {@code cur} and {@code tail} are stored with release and read
 * with acquire, so slot and buffer contents written before a store are visible after the matching load,
 * whichever thread or process reads them. Control words written by different sides are at least 128
 * bytes apart. The need-wake-up word ({@code USER_WAIT}) is volatile on both sides, pairing the
 * sleeper's "flag, then re-check" with the producer's "publish, then check flag".
 *
 * <p><b>Ports.</b> {@link io.jnetmap.core.Netmap#open(String)} parses the name
 * ({@link io.jnetmap.core.PortName}) and hands it to the module serving that kind
 * ({@code io.jnetmap.core.spi.PortProvider}); every kind extends {@code io.jnetmap.core.spi.AbstractPort}.
 * Ring-index arithmetic is {@link io.jnetmap.core.RingIndex}; a slot's first 8 bytes as one word,
 * {@link io.jnetmap.core.SlotWord}.
 *
 * <p><b>User API and SPI.</b> This package is what users see ({@code netmap_user.h}); the side a port
 * kind implements ({@code netmap_kern.h}: {@code AbstractPort}, {@code Kring}, {@code RingTap}, the
 * {@code PortProvider} service, {@code SpinLock}, {@code PidLock}) is {@code io.jnetmap.core.spi},
 * exported only to the modules that implement ports.
 */
package io.jnetmap.core;
