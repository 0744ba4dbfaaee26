/**
 * The port-implementer side of jnetmap (netmap's {@code netmap_kern.h}), exported only to the modules
 * that implement ports ({@code io.jnetmap.pipes}, {@code io.jnetmap.vale}); users see
 * {@code io.jnetmap.core}.
 *
 * <ul>
 *   <li>{@link io.jnetmap.core.spi.PortProvider}: a module's entry point, found by {@code ServiceLoader};</li>
 *   <li>{@link io.jnetmap.core.spi.AbstractPort}: the base of every port kind (binding, sync prologue and
 *       epilogue, pollable, close);</li>
 *   <li>{@link io.jnetmap.core.spi.Kring}: the backend's state of one ring, with owner marks on its fields;</li>
 *   <li>{@link io.jnetmap.core.spi.RingTap}: a copy monitor's hook into another port's syncs;</li>
 *   <li>{@link io.jnetmap.core.spi.RingGate}: a zero-copy monitor's gate, which another port's syncs pass
 *       through (a port kind allows it with {@code AbstractPort.supportsZeroCopyMonitor()});</li>
 *   <li>{@link io.jnetmap.core.spi.SpinLock} (in-JVM, a few instructions) and
 *       {@link io.jnetmap.core.spi.PidLock} (between processes, in shared memory): the two locks every
 *       module uses.</li>
 * </ul>
 *
 * <p>Memory order is in the names of internal ordered accessors (JCTools): {@code lv} load volatile,
 * {@code la} load acquire, {@code lp} load plain, {@code so} store ordered (release), {@code sv} store
 * volatile, {@code cas}. The user API keeps netmap's plain names ({@code Ring.head()}, {@code tail()}).
 */
package io.jnetmap.core.spi;
