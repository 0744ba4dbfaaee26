package io.jnetmap.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * What a port needs to know about a network interface of the calling thread's namespace, through
 * {@code ioctl}s on a throw-away datagram socket: index, driver, queue counts (ethtool), MAC, up/down.
 * Open-time only.
 *
 * <pre>
 *   struct ifreq (40)            name[16]@0, union@16: flags s16 | hwaddr sockaddr{family u16@16, data@18} | data ptr u64
 *   struct ethtool_channels (36) cmd, max_rx, max_tx, max_other, max_combined, rx_count, tx_count,
 *                                other_count, combined_count (u32 each)
 *   struct ethtool_drvinfo (196) cmd u32@0, driver[32]@4, ...
 * </pre>
 */
public final class NetDevice {
    public static final int IFNAMSIZ = 16;
    public static final long SIOCGIFFLAGS = 0x8913;
    public static final long SIOCSIFFLAGS = 0x8914;
    public static final long SIOCGIFHWADDR = 0x8927;
    public static final long SIOCETHTOOL = 0x8946;
    public static final int ETHTOOL_GDRVINFO = 0x3;
    public static final int ETHTOOL_GCHANNELS = 0x3c;
    public static final int IFF_UP = 0x1;
    private static final int IFREQ_SIZE = 40;

    private NetDevice() {
    }

    /** The interface's index, or 0 if there is no interface {@code name} in this namespace. */
    public static int index(String name) {
        checkName(name);
        return Linux.ifNameToIndex(name);
    }

    /** Throws IllegalArgumentException unless {@code name} can be an interface name. */
    public static void checkName(String name) {
        if (name.isEmpty() || name.getBytes(StandardCharsets.UTF_8).length >= IFNAMSIZ || name.contains("/")
                || name.contains(":") || name.chars().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException("interface name=" + name
                    + " (expected: 1.." + (IFNAMSIZ - 1) + " bytes without '/', ':' or spaces)");
        }
    }

    /** Queue counts of an interface. {@code rx}/{@code tx} include combined channels. */
    public record Queues(int rx, int tx, boolean reported) {
    }

    /**
     * Receive and transmit queues in use (ethtool channels). Devices that do not report channels (tun,
     * loopback) count as one queue each, with {@code reported} false.
     */
    public static Queues queues(String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ch = a.allocate(36, 8);
            ch.set(JAVA_INT, 0, ETHTOOL_GCHANNELS);
            if (!ethtool(name, ch, a)) {
                return new Queues(1, 1, false);
            }
            int rx = ch.get(JAVA_INT, 20);
            int tx = ch.get(JAVA_INT, 24);
            int combined = ch.get(JAVA_INT, 32);
            return new Queues(Math.max(1, rx + combined), Math.max(1, tx + combined), true);
        }
    }

    /** The driver's name ("veth", "tun", "virtio_net" …), or "" if the device does not say. */
    public static String driver(String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment info = a.allocate(196, 8);
            info.set(JAVA_INT, 0, ETHTOOL_GDRVINFO);
            if (!ethtool(name, info, a)) {
                return "";
            }
            return info.getString(4);
        }
    }

    /** The interface's hardware address (6 bytes for Ethernet). */
    public static byte[] mac(String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ifr = ifreq(name, a);
            ioctl(name, SIOCGIFHWADDR, ifr);
            return ifr.asSlice(18, 6).toArray(JAVA_BYTE);
        }
    }

    /** True if the interface is administratively up. */
    public static boolean isUp(String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ifr = ifreq(name, a);
            ioctl(name, SIOCGIFFLAGS, ifr);
            return (ifr.get(JAVA_SHORT, 16) & IFF_UP) != 0;
        }
    }

    /** Brings the interface up (needs CAP_NET_ADMIN). */
    public static void setUp(String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ifr = ifreq(name, a);
            ioctl(name, SIOCGIFFLAGS, ifr);
            ifr.set(JAVA_SHORT, 16, (short) (ifr.get(JAVA_SHORT, 16) | IFF_UP));
            ioctl(name, SIOCSIFFLAGS, ifr);
        }
    }

    /** An {@code ifreq} holding {@code name}, zeroed otherwise. */
    public static MemorySegment ifreq(String name, Arena a) {
        checkName(name);
        MemorySegment ifr = a.allocate(IFREQ_SIZE, 8);
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        MemorySegment.copy(n, 0, ifr, JAVA_BYTE, 0, n.length);
        return ifr;
    }

    /** SIOCETHTOOL with {@code cmd}; false if the device does not support the command. */
    private static boolean ethtool(String name, MemorySegment cmd, Arena a) {
        MemorySegment ifr = ifreq(name, a);
        ifr.set(JAVA_LONG, 16, cmd.address());
        try {
            ioctl(name, SIOCETHTOOL, ifr);
            return true;
        } catch (SyscallException e) {
            if (e.errno() == Errno.EOPNOTSUPP || e.errno() == Errno.EINVAL) {
                return false;
            }
            throw e;
        }
    }

    private static void ioctl(String name, long request, MemorySegment ifr) {
        int fd = Linux.socket(Linux.AF_UNIX, Linux.SOCK_DGRAM | Linux.SOCK_CLOEXEC, 0);
        try {
            Linux.ioctl(fd, request, ifr);
        } catch (SyscallException e) {
            throw new SyscallException("ioctl(" + name + ", 0x" + Long.toHexString(request) + ")", e.errno());
        } finally {
            Linux.close(fd);
        }
    }
}
