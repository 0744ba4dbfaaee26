package io.jnetmap.sys;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Every Linux system call jnetmap makes, in one audited place.
 *
 * <p>Rules, applied to every method:
 * <ul>
 *   <li>one {@code static final MethodHandle} per call, resolved once, errno captured by the linker
 *       ({@link Linker.Option#captureCallState}) into a per-thread state segment;</li>
 *   <li>EAGAIN is a result ({@link #AGAIN}), EINTR on a wait is "nothing happened" (0), every other
 *       failure throws {@link SyscallException} naming the call and the errno;</li>
 *   <li>no Java allocation on the calls used per batch ({@code read}, {@code write}, {@code sendto},
 *       {@code recvfrom}, {@code poll}, {@code epoll_wait}, {@code ioctl}) beyond what the caller passes in.</li>
 * </ul>
 * Memory passed to these methods must be native (off-heap) segments.
 */
public final class Linux {
    /** Returned instead of throwing when a non-blocking call would block (errno EAGAIN/EWOULDBLOCK). */
    public static final int AGAIN = -Errno.EAGAIN;

    // open(2)
    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0100;
    public static final int O_EXCL = 0200;
    public static final int O_TRUNC = 01000;
    public static final int O_NONBLOCK = 04000;
    public static final int O_CLOEXEC = 02000000;

    // mmap(2)
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_POPULATE = 0x8000;
    public static final long MAP_FAILED = -1L;

    // eventfd(2)
    public static final int EFD_SEMAPHORE = 1;
    public static final int EFD_NONBLOCK = O_NONBLOCK;
    public static final int EFD_CLOEXEC = O_CLOEXEC;

    // epoll(7)
    public static final int EPOLL_CLOEXEC = O_CLOEXEC;
    public static final int EPOLL_CTL_ADD = 1;
    public static final int EPOLL_CTL_DEL = 2;
    public static final int EPOLL_CTL_MOD = 3;
    public static final int EPOLLIN = 0x001;
    public static final int EPOLLPRI = 0x002;
    public static final int EPOLLOUT = 0x004;
    public static final int EPOLLERR = 0x008;
    public static final int EPOLLHUP = 0x010;
    public static final int EPOLLET = 1 << 31;
    /** {@code struct epoll_event} is packed on x86_64: u32 events @0, u64 data @4, 12 bytes. */
    public static final long EPOLL_EVENT_SIZE = 12;

    // poll(2): struct pollfd { int fd; short events; short revents; }
    public static final short POLLIN = 0x001;
    public static final short POLLOUT = 0x004;
    public static final short POLLERR = 0x008;
    public static final short POLLHUP = 0x010;
    public static final short POLLNVAL = 0x020;
    public static final long POLLFD_SIZE = 8;

    // socket(2)
    public static final int AF_UNIX = 1;
    public static final int AF_INET = 2;
    public static final int AF_NETLINK = 16;
    public static final int AF_PACKET = 17;
    public static final int AF_XDP = 44;
    public static final int SOCK_STREAM = 1;
    public static final int SOCK_DGRAM = 2;
    public static final int SOCK_RAW = 3;
    public static final int SOCK_SEQPACKET = 5;
    public static final int SOCK_NONBLOCK = O_NONBLOCK;
    public static final int SOCK_CLOEXEC = O_CLOEXEC;
    public static final int SOL_SOCKET = 1;
    public static final int SO_RCVBUF = 8;
    public static final int SO_SNDBUF = 7;
    public static final int SO_BUSY_POLL = 46;
    public static final int SCM_RIGHTS = 1;
    public static final int SO_PEERCRED = 17;
    public static final int SO_RCVTIMEO = 20;
    public static final int SO_SNDTIMEO = 21;
    public static final int MSG_DONTWAIT = 0x40;
    public static final int MSG_TRUNC = 0x20;

    // fcntl(2)
    public static final int F_GETFL = 3;
    public static final int F_SETFL = 4;

    // syscall numbers (x86_64)
    public static final long SYS_BPF = 321;
    public static final long SYS_PIDFD_OPEN = 434;
    public static final long SYS_PIDFD_GETFD = 438;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout STATE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = STATE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE = Linker.Option.captureCallState("errno");
    /** One errno slot per thread, allocated once: system calls on the hot path allocate nothing. */
    private static final ThreadLocal<MemorySegment> STATE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(STATE_LAYOUT));
    private static final AddressLayout C_POINTER = ADDRESS;

    private static final MethodHandle OPEN = call("open", FunctionDescriptor.of(JAVA_INT, C_POINTER, JAVA_INT, JAVA_INT), 2);
    private static final MethodHandle CLOSE = call("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle READ = call("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, C_POINTER, JAVA_LONG));
    private static final MethodHandle WRITE = call("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, C_POINTER, JAVA_LONG));
    private static final MethodHandle MMAP = call("mmap",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = call("munmap", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle FTRUNCATE = call("ftruncate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle EVENTFD = call("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle EPOLL_CREATE1 = call("epoll_create1", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle EPOLL_CTL = call("epoll_ctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, C_POINTER));
    private static final MethodHandle EPOLL_WAIT = call("epoll_wait",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, C_POINTER, JAVA_INT, JAVA_INT));
    private static final MethodHandle POLL = call("poll", FunctionDescriptor.of(JAVA_INT, C_POINTER, JAVA_LONG, JAVA_INT));
    private static final MethodHandle IOCTL_PTR = call("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, C_POINTER), 2);
    private static final MethodHandle IOCTL_INT = call("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), 2);
    private static final MethodHandle FCNTL = call("fcntl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), 2);
    private static final MethodHandle SOCKET = call("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle SOCKETPAIR = call("socketpair",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, C_POINTER));
    private static final MethodHandle BIND = call("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, C_POINTER, JAVA_INT));
    private static final MethodHandle CONNECT = call("connect", FunctionDescriptor.of(JAVA_INT, JAVA_INT, C_POINTER, JAVA_INT));
    private static final MethodHandle GETSOCKNAME = call("getsockname",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, C_POINTER, C_POINTER));
    private static final MethodHandle LISTEN = call("listen", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle ACCEPT4 = call("accept4",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, C_POINTER, C_POINTER, JAVA_INT));
    private static final MethodHandle SETSOCKOPT = call("setsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, C_POINTER, JAVA_INT));
    private static final MethodHandle GETSOCKOPT = call("getsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, C_POINTER, C_POINTER));
    private static final MethodHandle SENDTO = call("sendto",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, C_POINTER, JAVA_LONG, JAVA_INT, C_POINTER, JAVA_INT));
    private static final MethodHandle RECVFROM = call("recvfrom",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, C_POINTER, JAVA_LONG, JAVA_INT, C_POINTER, C_POINTER));
    private static final MethodHandle SENDMSG = call("sendmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, C_POINTER, JAVA_INT));
    private static final MethodHandle RECVMSG = call("recvmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, C_POINTER, JAVA_INT));
    private static final MethodHandle SENDMMSG = call("sendmmsg",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, C_POINTER, JAVA_INT, JAVA_INT));
    private static final MethodHandle SCHED_SETAFFINITY = call("sched_setaffinity",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, C_POINTER));
    private static final MethodHandle SCHED_GETAFFINITY = call("sched_getaffinity",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, C_POINTER));
    private static final MethodHandle GETPID = call("getpid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle GETTID = call("gettid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle GETUID = call("geteuid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle KILL = call("kill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle IF_NAMETOINDEX = call("if_nametoindex", FunctionDescriptor.of(JAVA_INT, C_POINTER));
    private static final MethodHandle READ_AT = call("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle WRITE_AT = call("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG));
    // Without errno capture: the per-batch calls of kernel-backed ports try these first (see uncaptured()).
    private static final MethodHandle READ_AT_FAST = uncaptured("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle WRITE_AT_FAST = uncaptured("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle SENDTO_FAST = uncaptured("sendto",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, C_POINTER, JAVA_LONG, JAVA_INT, C_POINTER, JAVA_INT));
    private static final MethodHandle SENDMMSG_FAST = uncaptured("sendmmsg",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, C_POINTER, JAVA_INT, JAVA_INT));
    private static final MethodHandle SETNS = call("setns", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle SYSCALL3 = call("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), 1);

    private Linux() {
    }

    private static MethodHandle call(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(symbol(name), fd, CAPTURE);
    }

    private static MethodHandle call(String name, FunctionDescriptor fd, int firstVariadic) {
        return LINKER.downcallHandle(symbol(name), fd, CAPTURE, Linker.Option.firstVariadicArg(firstVariadic));
    }

    /**
     * A handle without errno capture, for {@link #readAt}, {@link #writeAt}, {@link #kick} and
     * {@link #sendmmsg(int, MemorySegment, int, int, int[])}: C2 removes the call-state segment of a
     * capturing call only when it inlines the whole call, which it does not at every call site of a
     * port's sync, and then each call allocates. These calls are made without capture, and only a call
     * that failed is made again with capture to learn its errno. That is harmless for exactly these
     * calls: when they fail they have moved nothing (no byte read or written, sendmmsg's first message
     * not taken, an AF_XDP kick is a request to do what is pending anyway). The one exception, a TAP
     * read of a frame larger than the buffer, drops that frame; the retry then reads the next one, so
     * such a drop may go uncounted.
     */
    private static MethodHandle uncaptured(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(symbol(name), fd);
    }

    private static MemorySegment symbol(String name) {
        return LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol " + name));
    }

    /** The calling thread's errno slot. */
    private static MemorySegment state() {
        return STATE.get();
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    /**
     * Turns a failed call on {@code fd} into {@link #AGAIN} when errno is EAGAIN, else into its exception.
     * The message is built only when thrown: EAGAIN is common on the hot path and allocates nothing.
     */
    private static long failOrAgain(MemorySegment state, String call, int fd) {
        int e = errno(state);
        if (e == Errno.EAGAIN) {
            return AGAIN;
        }
        throw new SyscallException(call + "(fd=" + fd + ")", e);
    }

    /**
     * A failed call on {@code fd}: {@code -errno} if errno is in {@code tolerated} (an expected error the
     * caller counts), else {@link #failOrAgain}.
     */
    private static long toleratedOrFail(MemorySegment state, String call, int fd, int[] tolerated) {
        int e = errno(state);
        for (int t : tolerated) {
            if (t == e) {
                return -e;
            }
        }
        return failOrAgain(state, call, fd);
    }

    private static SyscallException fail(MemorySegment state, String call) {
        return new SyscallException(call, errno(state));
    }

    private static RuntimeException unexpected(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    // ----------------------------------------------------------------------------------------------
    // files

    /** open(2). Returns the fd. */
    public static int open(String path, int flags, int mode) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state();
            int fd = (int) OPEN.invokeExact(st, a.allocateFrom(path), flags, mode);
            if (fd < 0) {
                throw fail(st, "open(" + path + ")");
            }
            return fd;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** close(2). EBADF means the fd was already closed: that is a bug of the caller and is thrown. */
    public static void close(int fd) {
        try {
            MemorySegment st = state();
            if ((int) CLOSE.invokeExact(st, fd) < 0) {
                int e = errno(st);
                if (e != Errno.EINTR) { // Linux releases the fd even when close is interrupted
                    throw new SyscallException("close(fd=" + fd + ")", e);
                }
            }
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** read(2). Returns bytes read (0 at end of file) or {@link #AGAIN}. */
    public static long read(int fd, MemorySegment buf, long len) {
        try {
            MemorySegment st = state();
            long n = (long) READ.invokeExact(st, fd, buf, len);
            return n >= 0 ? n : failOrAgain(st, "read", fd);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** write(2). Returns bytes written or {@link #AGAIN}. */
    public static long write(int fd, MemorySegment buf, long len) {
        try {
            MemorySegment st = state();
            long n = (long) WRITE.invokeExact(st, fd, buf, len);
            return n >= 0 ? n : failOrAgain(st, "write", fd);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * read(2) into {@code len} bytes of {@code seg} at {@code offset} (bounds checked here), without
     * creating a slice: the allocation-free form for packet buffers inside a region.
     * Returns bytes read or {@link #AGAIN}; errors in {@code tolerated} are returned negated instead of
     * thrown.
     */
    public static long readAt(int fd, MemorySegment seg, long offset, long len, int[] tolerated) {
        java.util.Objects.checkFromIndexSize(offset, len, seg.byteSize());
        try {
            long n = (long) READ_AT_FAST.invokeExact(fd, seg.address() + offset, len);
            return n >= 0 ? n : retryAt(false, fd, seg.address() + offset, len, tolerated);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * write(2) of {@code len} bytes of {@code seg} at {@code offset} (bounds checked here), without
     * creating a slice. Returns bytes written or {@link #AGAIN}; errors in {@code tolerated} are
     * returned negated instead of thrown.
     */
    public static long writeAt(int fd, MemorySegment seg, long offset, long len, int[] tolerated) {
        java.util.Objects.checkFromIndexSize(offset, len, seg.byteSize());
        try {
            long n = (long) WRITE_AT_FAST.invokeExact(fd, seg.address() + offset, len);
            return n >= 0 ? n : retryAt(true, fd, seg.address() + offset, len, tolerated);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** The slow path of {@link #readAt}/{@link #writeAt}: the call again, with errno captured ({@link #uncaptured}). */
    private static long retryAt(boolean write, int fd, long address, long len, int[] tolerated) throws Throwable {
        MemorySegment st = state();
        long n = write ? (long) WRITE_AT.invokeExact(st, fd, address, len) : (long) READ_AT.invokeExact(st, fd, address, len);
        return n >= 0 ? n : toleratedOrFail(st, write ? "write" : "read", fd, tolerated);
    }

    /** ftruncate(2). */
    public static void ftruncate(int fd, long length) {
        try {
            MemorySegment st = state();
            if ((int) FTRUNCATE.invokeExact(st, fd, length) < 0) {
                throw fail(st, "ftruncate(fd=" + fd + ", " + length + ")");
            }
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** fcntl(2) with an integer argument. Returns the call's result. */
    public static int fcntl(int fd, int cmd, long arg) {
        try {
            MemorySegment st = state();
            int r = (int) FCNTL.invokeExact(st, fd, cmd, arg);
            if (r < 0) {
                throw fail(st, "fcntl(fd=" + fd + ", cmd=" + cmd + ")");
            }
            return r;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    // ----------------------------------------------------------------------------------------------
    // memory

    /**
     * mmap(2), returned as a segment of {@code length} bytes whose lifetime is {@code arena}: closing the
     * arena unmaps it. This is the one place where a raw address is turned into a segment.
     */
    public static MemorySegment mmap(long length, int prot, int flags, int fd, long offset, Arena arena) {
        long addr;
        try {
            MemorySegment st = state();
            addr = (long) MMAP.invokeExact(st, 0L, length, prot, flags, fd, offset);
            if (addr == MAP_FAILED) {
                throw fail(st, "mmap(len=" + length + ", fd=" + fd + ", offset=0x" + Long.toHexString(offset) + ")");
            }
        } catch (Throwable t) {
            throw unexpected(t);
        }
        final long mapped = addr;
        return MemorySegment.ofAddress(mapped).reinterpret(length, arena, s -> munmap(mapped, length));
    }

    /** munmap(2). */
    public static void munmap(long address, long length) {
        try {
            MemorySegment st = state();
            if ((int) MUNMAP.invokeExact(st, address, length) < 0) {
                throw fail(st, "munmap(len=" + length + ")");
            }
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    // ----------------------------------------------------------------------------------------------
    // events

    /** eventfd(2). Returns the fd. */
    public static int eventfd(int initval, int flags) {
        try {
            MemorySegment st = state();
            int fd = (int) EVENTFD.invokeExact(st, initval, flags);
            if (fd < 0) {
                throw fail(st, "eventfd()");
            }
            return fd;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** epoll_create1(2). Returns the fd. */
    public static int epollCreate1(int flags) {
        try {
            MemorySegment st = state();
            int fd = (int) EPOLL_CREATE1.invokeExact(st, flags);
            if (fd < 0) {
                throw fail(st, "epoll_create1()");
            }
            return fd;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** epoll_ctl(2); {@code event} is a 12-byte {@code struct epoll_event} (or NULL for DEL). */
    public static void epollCtl(int epfd, int op, int fd, MemorySegment event) {
        try {
            MemorySegment st = state();
            if ((int) EPOLL_CTL.invokeExact(st, epfd, op, fd, event) < 0) {
                throw fail(st, "epoll_ctl(epfd=" + epfd + ", op=" + op + ", fd=" + fd + ")");
            }
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** epoll_wait(2). Returns the number of ready events; 0 on timeout or when interrupted (EINTR). */
    public static int epollWait(int epfd, MemorySegment events, int maxEvents, int timeoutMs) {
        try {
            MemorySegment st = state();
            int n = (int) EPOLL_WAIT.invokeExact(st, epfd, events, maxEvents, timeoutMs);
            if (n < 0) {
                if (errno(st) == Errno.EINTR) {
                    return 0;
                }
                throw fail(st, "epoll_wait(epfd=" + epfd + ")");
            }
            return n;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** poll(2) over {@code nfds} {@code struct pollfd}. Returns the number ready; 0 on timeout or EINTR. */
    public static int poll(MemorySegment fds, long nfds, int timeoutMs) {
        try {
            MemorySegment st = state();
            int n = (int) POLL.invokeExact(st, fds, nfds, timeoutMs);
            if (n < 0) {
                if (errno(st) == Errno.EINTR) {
                    return 0;
                }
                throw fail(st, "poll(nfds=" + nfds + ")");
            }
            return n;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    // ----------------------------------------------------------------------------------------------
    // devices

    /** ioctl(2) with a pointer argument. Returns the call's result (>= 0). */
    public static int ioctl(int fd, long request, MemorySegment arg) {
        try {
            MemorySegment st = state();
            int r = (int) IOCTL_PTR.invokeExact(st, fd, request, arg);
            if (r < 0) {
                throw fail(st, "ioctl(fd=" + fd + ", 0x" + Long.toHexString(request) + ")");
            }
            return r;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** ioctl(2) with an integer argument. Returns the call's result (>= 0). */
    public static int ioctl(int fd, long request, long arg) {
        try {
            MemorySegment st = state();
            int r = (int) IOCTL_INT.invokeExact(st, fd, request, arg);
            if (r < 0) {
                throw fail(st, "ioctl(fd=" + fd + ", 0x" + Long.toHexString(request) + ")");
            }
            return r;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    // ----------------------------------------------------------------------------------------------
    // sockets

    /** socket(2). Returns the fd. */
    public static int socket(int domain, int type, int protocol) {
        try {
            MemorySegment st = state();
            int fd = (int) SOCKET.invokeExact(st, domain, type, protocol);
            if (fd < 0) {
                throw fail(st, "socket(domain=" + domain + ", type=" + type + ", protocol=" + protocol + ")");
            }
            return fd;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** socketpair(2). Returns the two fds. */
    public static int[] socketpair(int domain, int type, int protocol) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fds = a.allocate(JAVA_INT, 2);
            MemorySegment st = state();
            if ((int) SOCKETPAIR.invokeExact(st, domain, type, protocol, fds) < 0) {
                throw fail(st, "socketpair(domain=" + domain + ")");
            }
            return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** bind(2). */
    public static void bind(int fd, MemorySegment addr, int addrLen) {
        try {
            MemorySegment st = state();
            if ((int) BIND.invokeExact(st, fd, addr, addrLen) < 0) {
                throw fail(st, "bind(fd=" + fd + ")");
            }
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** connect(2). */
    public static void connect(int fd, MemorySegment addr, int addrLen) {
        try {
            MemorySegment st = state();
            if ((int) CONNECT.invokeExact(st, fd, addr, addrLen) < 0) {
                throw fail(st, "connect(fd=" + fd + ")");
            }
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** getsockname(2) into {@code addr}; returns the address length the kernel wrote. */
    public static int getsockname(int fd, MemorySegment addr) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment len = a.allocateFrom(JAVA_INT, (int) addr.byteSize());
            MemorySegment st = state();
            if ((int) GETSOCKNAME.invokeExact(st, fd, addr, len) < 0) {
                throw fail(st, "getsockname(fd=" + fd + ")");
            }
            return len.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** listen(2). */
    public static void listen(int fd, int backlog) {
        try {
            MemorySegment st = state();
            if ((int) LISTEN.invokeExact(st, fd, backlog) < 0) {
                throw fail(st, "listen(fd=" + fd + ")");
            }
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** accept4(2) without peer address. Returns the new fd or {@link #AGAIN}. */
    public static int accept4(int fd, int flags) {
        try {
            MemorySegment st = state();
            int r = (int) ACCEPT4.invokeExact(st, fd, MemorySegment.NULL, MemorySegment.NULL, flags);
            return r >= 0 ? r : (int) failOrAgain(st, "accept4", fd);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** setsockopt(2). */
    public static void setsockopt(int fd, int level, int name, MemorySegment value, int len) {
        try {
            MemorySegment st = state();
            if ((int) SETSOCKOPT.invokeExact(st, fd, level, name, value, len) < 0) {
                throw fail(st, "setsockopt(fd=" + fd + ", level=" + level + ", name=" + name + ")");
            }
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** setsockopt(2) of one int. */
    public static void setsockoptInt(int fd, int level, int name, int value) {
        try (Arena a = Arena.ofConfined()) {
            setsockopt(fd, level, name, a.allocateFrom(JAVA_INT, value), 4);
        }
    }

    /**
     * getsockopt(2) into {@code value} (at most {@code value.byteSize()} bytes). Returns the length the
     * kernel wrote.
     */
    public static int getsockopt(int fd, int level, int name, MemorySegment value) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment len = a.allocateFrom(JAVA_INT, (int) value.byteSize());
            MemorySegment st = state();
            if ((int) GETSOCKOPT.invokeExact(st, fd, level, name, value, len) < 0) {
                throw fail(st, "getsockopt(fd=" + fd + ", level=" + level + ", name=" + name + ")");
            }
            return len.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** getsockopt(2) of one int. */
    public static int getsockoptInt(int fd, int level, int name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            getsockopt(fd, level, name, v);
            return v.get(JAVA_INT, 0);
        }
    }

    /**
     * sendto(2); {@code addr} may be {@link MemorySegment#NULL}. Returns bytes sent or {@link #AGAIN}.
     * Errors in {@code tolerated} (e.g. ENOBUFS on an AF_XDP kick) are returned negated instead of thrown.
     */
    public static long sendto(int fd, MemorySegment buf, long len, int flags, MemorySegment addr, int addrLen,
                              int... tolerated) {
        try {
            MemorySegment st = state();
            long n = (long) SENDTO.invokeExact(st, fd, buf, len, flags, addr, addrLen);
            return n >= 0 ? n : toleratedOrFail(st, "sendto", fd, tolerated);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** sendto(2) without address and without tolerated errors; allocation-free (no varargs array). */
    public static long send(int fd, MemorySegment buf, long len, int flags) {
        try {
            MemorySegment st = state();
            long n = (long) SENDTO.invokeExact(st, fd, buf, len, flags, MemorySegment.NULL, 0);
            return n >= 0 ? n : failOrAgain(st, "sendto", fd);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** recvfrom(2) without source address. Returns bytes received or {@link #AGAIN}. */
    public static long recv(int fd, MemorySegment buf, long len, int flags) {
        try {
            MemorySegment st = state();
            long n = (long) RECVFROM.invokeExact(st, fd, buf, len, flags, MemorySegment.NULL, MemorySegment.NULL);
            return n >= 0 ? n : failOrAgain(st, "recvfrom", fd);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** recvfrom(2) with a source address buffer and its in/out length. Returns bytes or {@link #AGAIN}. */
    public static long recvfrom(int fd, MemorySegment buf, long len, int flags, MemorySegment addr, MemorySegment addrLen) {
        try {
            MemorySegment st = state();
            long n = (long) RECVFROM.invokeExact(st, fd, buf, len, flags, addr, addrLen);
            return n >= 0 ? n : failOrAgain(st, "recvfrom", fd);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** sendmsg(2). Returns bytes sent or {@link #AGAIN}. */
    public static long sendmsg(int fd, MemorySegment msghdr, int flags) {
        try {
            MemorySegment st = state();
            long n = (long) SENDMSG.invokeExact(st, fd, msghdr, flags);
            return n >= 0 ? n : failOrAgain(st, "sendmsg", fd);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** recvmsg(2). Returns bytes received or {@link #AGAIN}. */
    public static long recvmsg(int fd, MemorySegment msghdr, int flags) {
        try {
            MemorySegment st = state();
            long n = (long) RECVMSG.invokeExact(st, fd, msghdr, flags);
            return n >= 0 ? n : failOrAgain(st, "recvmsg", fd);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** sendmmsg(2). Returns messages sent or {@link #AGAIN}. */
    public static int sendmmsg(int fd, MemorySegment mmsghdrs, int vlen, int flags) {
        try {
            MemorySegment st = state();
            int n = (int) SENDMMSG.invokeExact(st, fd, mmsghdrs, vlen, flags);
            return n >= 0 ? n : (int) failOrAgain(st, "sendmmsg", fd);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * sendmmsg(2). Returns messages sent or {@link #AGAIN}; errors in {@code tolerated} (e.g. ENOBUFS
     * when a queue dropped the first message) are returned negated instead of thrown.
     */
    public static int sendmmsg(int fd, MemorySegment mmsghdrs, int vlen, int flags, int[] tolerated) {
        try {
            int n = (int) SENDMMSG_FAST.invokeExact(fd, mmsghdrs, vlen, flags);
            if (n >= 0) {
                return n;
            }
            MemorySegment st = state();
            n = (int) SENDMMSG.invokeExact(st, fd, mmsghdrs, vlen, flags); // again, to learn errno
            return n >= 0 ? n : (int) toleratedOrFail(st, "sendmmsg", fd, tolerated);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * {@code sendto(fd, NULL, 0, flags, NULL, 0)}: the kick that makes an AF_XDP socket transmit what is
     * on its TX ring. Returns 0 (or the call's result), {@link #AGAIN}, or a negated errno in
     * {@code tolerated}; allocation-free when it succeeds.
     */
    public static long kick(int fd, int flags, int[] tolerated) {
        try {
            long n = (long) SENDTO_FAST.invokeExact(fd, MemorySegment.NULL, 0L, flags, MemorySegment.NULL, 0);
            if (n >= 0) {
                return n;
            }
            return sendto(fd, MemorySegment.NULL, 0, flags, MemorySegment.NULL, 0, tolerated); // again, to learn errno
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** setns(2): moves the calling thread into the namespace behind {@code fd} ({@code nstype} 0 = any). */
    public static void setns(int fd, int nstype) {
        try {
            MemorySegment st = state();
            if ((int) SETNS.invokeExact(st, fd, nstype) < 0) {
                throw fail(st, "setns(fd=" + fd + ", nstype=0x" + Integer.toHexString(nstype) + ")");
            }
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** if_nametoindex(3). Returns the index, or 0 if there is no such interface (ENODEV). */
    public static int ifNameToIndex(String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state();
            int idx = (int) IF_NAMETOINDEX.invokeExact(st, a.allocateFrom(name));
            if (idx == 0 && errno(st) != Errno.ENODEV && errno(st) != 0) {
                throw fail(st, "if_nametoindex(" + name + ")");
            }
            return idx;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    // ----------------------------------------------------------------------------------------------
    // processes and scheduling

    /** getpid(2). */
    public static int getpid() {
        try {
            return (int) GETPID.invokeExact(state());
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** gettid(2): the kernel thread id of the calling thread. */
    public static int gettid() {
        try {
            return (int) GETTID.invokeExact(state());
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** geteuid(2). */
    public static int geteuid() {
        try {
            return (int) GETUID.invokeExact(state());
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** True if process {@code pid} exists (kill(pid, 0) does not fail with ESRCH). */
    public static boolean processAlive(int pid) {
        try {
            MemorySegment st = state();
            if ((int) KILL.invokeExact(st, pid, 0) == 0) {
                return true;
            }
            return errno(st) != Errno.ESRCH;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** sched_setaffinity(2) for thread {@code tid} (0 = the calling thread) with a {@code cpu_set_t}. */
    public static void schedSetaffinity(int tid, MemorySegment cpuSet) {
        try {
            MemorySegment st = state();
            if ((int) SCHED_SETAFFINITY.invokeExact(st, tid, cpuSet.byteSize(), cpuSet) < 0) {
                throw fail(st, "sched_setaffinity(tid=" + tid + ")");
            }
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** sched_getaffinity(2) for thread {@code tid} (0 = the calling thread) into {@code cpuSet}. */
    public static void schedGetaffinity(int tid, MemorySegment cpuSet) {
        try {
            MemorySegment st = state();
            if ((int) SCHED_GETAFFINITY.invokeExact(st, tid, cpuSet.byteSize(), cpuSet) < 0) {
                throw fail(st, "sched_getaffinity(tid=" + tid + ")");
            }
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    // ----------------------------------------------------------------------------------------------
    // raw syscalls without a libc wrapper

    /** bpf(2): {@code syscall(SYS_bpf, cmd, attr, size)}. Returns the call's result (an fd for most commands). */
    public static int bpf(int cmd, MemorySegment attr, int size) {
        try {
            MemorySegment st = state();
            long r = (long) SYSCALL3.invokeExact(st, SYS_BPF, (long) cmd, attr.address(), (long) size);
            if (r < 0) {
                throw fail(st, "bpf(cmd=" + cmd + ")");
            }
            return (int) r;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** pidfd_open(2). Returns a pidfd for process {@code pid}. */
    public static int pidfdOpen(int pid) {
        try {
            MemorySegment st = state();
            long r = (long) SYSCALL3.invokeExact(st, SYS_PIDFD_OPEN, (long) pid, 0L, 0L);
            if (r < 0) {
                throw fail(st, "pidfd_open(pid=" + pid + ")");
            }
            return (int) r;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * pidfd_getfd(2): a duplicate, in this process, of descriptor {@code targetFd} of the process behind
     * {@code pidfd} (needs ptrace access to it: same user, or CAP_SYS_PTRACE).
     */
    public static int pidfdGetfd(int pidfd, int targetFd) {
        try {
            MemorySegment st = state();
            long r = (long) SYSCALL3.invokeExact(st, SYS_PIDFD_GETFD, (long) pidfd, (long) targetFd, 0L);
            if (r < 0) {
                throw fail(st, "pidfd_getfd(pidfd=" + pidfd + ", fd=" + targetFd + ")");
            }
            return (int) r;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }
}
