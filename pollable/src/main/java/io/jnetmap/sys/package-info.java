/**
 * The Linux system layer: every system call jnetmap makes goes through {@link io.jnetmap.sys.Linux},
 * one {@code static final} downcall handle per call with errno captured by the linker. EAGAIN is a
 * return value ({@link io.jnetmap.sys.Linux#AGAIN}); every other failure is a
 * {@link io.jnetmap.sys.SyscallException} that names the call and the errno. Small helpers over those
 * calls ({@link io.jnetmap.sys.EventFd}, {@link io.jnetmap.sys.Epoll}, {@link io.jnetmap.sys.Affinity})
 * own their native scratch memory so that the calls made per batch allocate nothing.
 *
 * <p>Restricted FFM operations (turning an mmap address into a segment) happen only in
 * {@link io.jnetmap.sys.Linux#mmap}. Run with {@code --enable-native-access=io.jnetmap.pollable}
 * (module path) or {@code --enable-native-access=ALL-UNNAMED} (class path).
 */
package io.jnetmap.sys;
