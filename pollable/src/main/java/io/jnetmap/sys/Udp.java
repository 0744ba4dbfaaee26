package io.jnetmap.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/**
 * Batched datagram I/O for tunnel ports: {@code recvmmsg(2)} (which {@link Linux} does not bind) and
 * the layouts of {@code struct mmsghdr}, {@code struct iovec} and {@code struct sockaddr_in} (x86_64):
 *
 * <pre>
 * mmsghdr     { msghdr hdr; u32 msg_len; (pad) }                                                        64 B
 * msghdr      { void *name @0; u32 namelen @8; iovec *iov @16; u64 iovlen @24; void *control @32;
 *               u64 controllen @40; int flags @48 }                                                     56 B
 * iovec       { void *base @0; u64 len @8 }                                                             16 B
 * sockaddr_in { u16 family @0; be16 port @2; be32 addr @4; u8 zero[8] }                                 16 B
 * </pre>
 *
 * Sending uses {@link Linux#sendmmsg(int, MemorySegment, int, int, int[])}.
 */
public final class Udp {
    public static final int IPPROTO_IP = 0;
    public static final int IPPROTO_UDP = 17;
    /** A raw socket that only sends, with the IP header given by the caller (raw(7), implies IP_HDRINCL). */
    public static final int IPPROTO_RAW = 255;
    public static final int IP_MTU_DISCOVER = 10;
    /** Set DF, never fragment locally (EMSGSIZE instead). */
    public static final int IP_PMTUDISC_DO = 2;
    public static final int SO_REUSEADDR = 2;

    public static final int MMSGHDR_SIZE = 64;
    public static final int MSG_NAME_OFFSET = 0;
    public static final int MSG_NAMELEN_OFFSET = 8;
    public static final int MSG_IOV_OFFSET = 16;
    public static final int MSG_IOVLEN_OFFSET = 24;
    public static final int MSG_FLAGS_OFFSET = 48;
    public static final int MSG_LEN_OFFSET = 56;
    public static final int IOVEC_SIZE = 16;
    public static final int SOCKADDR_IN_SIZE = 16;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout STATE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = STATE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final ThreadLocal<MemorySegment> STATE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(STATE_LAYOUT));
    private static final FunctionDescriptor RECVMMSG_DESC =
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS);
    /** Without errno capture, so a successful call allocates nothing (see Linux's uncaptured calls). */
    private static final MethodHandle RECVMMSG_FAST = LINKER.downcallHandle(symbol("recvmmsg"), RECVMMSG_DESC);
    private static final MethodHandle RECVMMSG = LINKER.downcallHandle(symbol("recvmmsg"), RECVMMSG_DESC,
            Linker.Option.captureCallState("errno"));

    private Udp() {
    }

    private static MemorySegment symbol(String name) {
        return LINKER.defaultLookup().find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol " + name));
    }

    /**
     * recvmmsg(2) of up to {@code vlen} messages without timeout. Returns the number received or
     * {@link Linux#AGAIN}; allocation-free when it succeeds. A failure other than EAGAIN is thrown.
     * A call that failed is made once more with errno capture; it has received nothing, so that is safe.
     */
    public static int recvmmsg(int fd, MemorySegment mmsghdrs, int vlen, int flags) {
        try {
            int n = (int) RECVMMSG_FAST.invokeExact(fd, mmsghdrs, vlen, flags, MemorySegment.NULL);
            if (n >= 0) {
                return n;
            }
            MemorySegment st = STATE.get();
            n = (int) RECVMMSG.invokeExact(st, fd, mmsghdrs, vlen, flags, MemorySegment.NULL);
            if (n >= 0) {
                return n;
            }
            int e = (int) ERRNO.get(st, 0L);
            if (e == Errno.EAGAIN) {
                return Linux.AGAIN;
            }
            throw new SyscallException("recvmmsg(fd=" + fd + ")", e);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * recvmmsg(2) without learning errno: the number received, or -1 when the call failed (on a
     * non-blocking datagram socket nearly always EAGAIN). Allocation-free either way, so a thread that
     * polls an idle socket allocates nothing; such a caller checks now and then with {@link #recvmmsg}
     * that the failure is EAGAIN and not an error.
     */
    public static int recvmmsgUnchecked(int fd, MemorySegment mmsghdrs, int vlen, int flags) {
        try {
            return (int) RECVMMSG_FAST.invokeExact(fd, mmsghdrs, vlen, flags, MemorySegment.NULL);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Writes a {@code sockaddr_in} for {@code ip} (host order int) and {@code port} at {@code off}. */
    public static void sockaddrIn(MemorySegment seg, long off, int ip, int port) {
        seg.asSlice(off, SOCKADDR_IN_SIZE).fill((byte) 0);
        seg.set(JAVA_SHORT_UNALIGNED, off, (short) Linux.AF_INET);
        seg.set(JAVA_BYTE, off + 2, (byte) (port >>> 8));
        seg.set(JAVA_BYTE, off + 3, (byte) port);
        putIpv4(seg, off + 4, ip);
    }

    /** The IPv4 address (host order int) of a {@code sockaddr_in} at {@code off}. */
    public static int sockaddrInAddr(MemorySegment seg, long off) {
        return getIpv4(seg, off + 4);
    }

    /** Stores {@code ip} (host order int) in network order at {@code off}. */
    public static void putIpv4(MemorySegment seg, long off, int ip) {
        seg.set(JAVA_BYTE, off, (byte) (ip >>> 24));
        seg.set(JAVA_BYTE, off + 1, (byte) (ip >>> 16));
        seg.set(JAVA_BYTE, off + 2, (byte) (ip >>> 8));
        seg.set(JAVA_BYTE, off + 3, (byte) ip);
    }

    /** Reads a network-order IPv4 address at {@code off} as a host order int. */
    public static int getIpv4(MemorySegment seg, long off) {
        return (seg.get(JAVA_BYTE, off) & 0xff) << 24 | (seg.get(JAVA_BYTE, off + 1) & 0xff) << 16
                | (seg.get(JAVA_BYTE, off + 2) & 0xff) << 8 | (seg.get(JAVA_BYTE, off + 3) & 0xff);
    }

    /** Parses a dotted-quad IPv4 address ({@code 10.0.0.1}); null if it is not one. */
    public static Integer parseIpv4(String s) {
        String[] p = s.split("\\.", -1);
        if (p.length != 4) {
            return null;
        }
        int ip = 0;
        for (String x : p) {
            if (x.isEmpty() || x.length() > 3 || !x.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return null;
            }
            int v = Integer.parseInt(x);
            if (v > 255) {
                return null;
            }
            ip = ip << 8 | v;
        }
        return ip;
    }

    /** {@code 10.0.0.1} for a host-order int. */
    public static String formatIpv4(int ip) {
        return (ip >>> 24) + "." + (ip >>> 16 & 0xff) + "." + (ip >>> 8 & 0xff) + "." + (ip & 0xff);
    }

    /** An {@link InetAddress} for a host-order IPv4 int. */
    public static InetAddress inet(int ip) {
        try {
            return Inet4Address.getByAddress(new byte[] {(byte) (ip >>> 24), (byte) (ip >>> 16), (byte) (ip >>> 8), (byte) ip});
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
