package io.jnetmap.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * TAP devices through {@code /dev/net/tun}: each open descriptor is one queue of the device; each
 * {@code read}/{@code write} on it carries exactly one Ethernet frame (use
 * {@link Linux#readAt}/{@link Linux#writeAt} to move frames in and out of packet buffers without
 * allocating). A device made by {@link #open} disappears when its last descriptor closes, unless it
 * was made persistent beforehand ({@code ip tuntap add}).
 */
public final class Tun {
    public static final long TUNSETIFF = 0x400454caL;
    public static final int IFF_TUN = 0x0001;
    public static final int IFF_TAP = 0x0002;
    public static final int IFF_NO_PI = 0x1000;
    public static final int IFF_MULTI_QUEUE = 0x0100;
    public static final String DEVICE = "/dev/net/tun";

    private Tun() {
    }

    /**
     * Opens (creating it if needed) TAP device {@code name}, non-blocking, one frame per read/write, no
     * packet-information header. {@code multiQueue}: the device may have several descriptors, one per
     * queue. Returns the descriptor. Needs CAP_NET_ADMIN to create a device.
     */
    public static int openTap(String name, boolean multiQueue) {
        int fd = Linux.open(DEVICE, Linux.O_RDWR | Linux.O_NONBLOCK | Linux.O_CLOEXEC, 0);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ifr = NetDevice.ifreq(name, a);
            ifr.set(JAVA_SHORT, 16, (short) (IFF_TAP | IFF_NO_PI | (multiQueue ? IFF_MULTI_QUEUE : 0)));
            try {
                Linux.ioctl(fd, TUNSETIFF, ifr);
            } catch (SyscallException e) {
                throw new SyscallException("ioctl(" + DEVICE + ", TUNSETIFF, " + name + ", IFF_TAP)", e.errno());
            }
            return fd;
        } catch (RuntimeException e) {
            Linux.close(fd);
            throw e;
        }
    }
}
