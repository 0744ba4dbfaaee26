package io.jnetmap.sys;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * errno values (x86_64/aarch64 Linux generic numbering) and their names and descriptions, taken from
 * glibc ({@code strerrorname_np}, {@code strerrordesc_np}: thread-safe, static strings).
 */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int ESRCH = 3;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int ENXIO = 6;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int EINVAL = 22;
    public static final int EMFILE = 24;
    public static final int ENOTTY = 25;
    public static final int ENOSPC = 28;
    public static final int EPIPE = 32;
    public static final int EPROTO = 71;
    public static final int ENOSYS = 38;
    public static final int ENOTSOCK = 88;
    public static final int EMSGSIZE = 90;
    public static final int ENOPROTOOPT = 92;
    public static final int EPROTONOSUPPORT = 93;
    public static final int EOPNOTSUPP = 95;
    public static final int EAFNOSUPPORT = 97;
    public static final int EADDRINUSE = 98;
    public static final int ENETDOWN = 100;
    public static final int ENETUNREACH = 101;
    public static final int ECONNABORTED = 103;
    public static final int ENOBUFS = 105;
    public static final int ECONNREFUSED = 111;

    private static final MethodHandle NAME;
    private static final MethodHandle DESC;

    static {
        Linker linker = Linker.nativeLinker();
        FunctionDescriptor fd = FunctionDescriptor.of(ADDRESS, JAVA_INT);
        NAME = linker.defaultLookup().find("strerrorname_np").map(a -> linker.downcallHandle(a, fd)).orElse(null);
        DESC = linker.defaultLookup().find("strerrordesc_np").map(a -> linker.downcallHandle(a, fd)).orElse(null);
    }

    private Errno() {
    }

    /** {@code "EBUSY"} for 16; {@code "errno 4242"} if glibc does not know the value. */
    public static String name(int errno) {
        String s = lookup(NAME, errno);
        return s != null ? s : "errno " + errno;
    }

    /** {@code "Device or resource busy"} for 16. */
    public static String describe(int errno) {
        String s = lookup(DESC, errno);
        return s != null ? s : "unknown error " + errno;
    }

    private static String lookup(MethodHandle mh, int errno) {
        if (mh == null) {
            return null;
        }
        try {
            MemorySegment p = (MemorySegment) mh.invokeExact(errno);
            return p.equals(MemorySegment.NULL) ? null : p.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return null;
        }
    }
}
