package io.jnetmap.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Descriptors handed between processes with {@code SCM_RIGHTS} over {@code AF_UNIX}
 * {@code SOCK_SEQPACKET} sockets bound at <em>abstract</em> addresses (no file to leave behind; the
 * address lives in the network namespace and dies with its socket). Each message carries one
 * {@code int} word and at most one descriptor. Not a hot path: every call may allocate.
 *
 * <pre>
 * sockaddr_un  { u16 sun_family = AF_UNIX; char sun_path[108] = "\0" name }   length 2 + 1 + |name|
 * msghdr       { void *name; u32 namelen; (pad); iovec *iov; u64 iovlen; void *control; u64 controllen; int flags }  56 B
 * cmsghdr      { u64 len = 20; int level = SOL_SOCKET; int type = SCM_RIGHTS; int fd; (pad) }              24 B
 * </pre>
 */
public final class FdPassing {
    private static final int MSGHDR_SIZE = 56;
    private static final int CMSG_LEN_ONE_FD = 20;
    private static final int CMSG_SPACE_ONE_FD = 24;
    private static final int MSG_CMSG_CLOEXEC = 0x40000000;
    private static final int MAX_NAME = 107;

    private FdPassing() {
    }

    /** A message: its word and the descriptor it carried (now this process's), or -1. */
    public record Message(int word, int fd) {
    }

    /** The credentials of the process at the other end of a connected socket ({@code SO_PEERCRED}). */
    public record Peer(int pid, int uid, int gid) {
    }

    private static MemorySegment address(Arena a, String name) {
        byte[] b = name.getBytes(StandardCharsets.US_ASCII);
        if (b.length == 0 || b.length > MAX_NAME) {
            throw new IllegalArgumentException("abstract socket name must have 1.." + MAX_NAME + " characters: " + name);
        }
        MemorySegment sa = a.allocate(2 + 1 + b.length);
        sa.set(JAVA_SHORT, 0, (short) Linux.AF_UNIX);
        // sun_path[0] stays 0: the abstract namespace
        MemorySegment.copy(MemorySegment.ofArray(b), 0, sa, 3, b.length);
        return sa;
    }

    /** A blocking, close-on-exec listening socket at abstract address {@code name}. */
    public static int listen(String name, int backlog) {
        int fd = Linux.socket(Linux.AF_UNIX, Linux.SOCK_SEQPACKET | Linux.SOCK_CLOEXEC, 0);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sa = address(a, name);
            Linux.bind(fd, sa, (int) sa.byteSize());
            Linux.listen(fd, backlog);
            return fd;
        } catch (RuntimeException e) {
            Linux.close(fd);
            throw e;
        }
    }

    /**
     * A socket connected to abstract address {@code name}, whose sends and receives give up after
     * {@code timeoutMs} (a receive that times out returns null from {@link #receive}).
     */
    public static int connect(String name, int timeoutMs) {
        int fd = Linux.socket(Linux.AF_UNIX, Linux.SOCK_SEQPACKET | Linux.SOCK_CLOEXEC, 0);
        try (Arena a = Arena.ofConfined()) {
            setTimeouts(fd, timeoutMs);
            MemorySegment sa = address(a, name);
            Linux.connect(fd, sa, (int) sa.byteSize());
            return fd;
        } catch (RuntimeException e) {
            Linux.close(fd);
            throw e;
        }
    }

    /** Bounds every blocking send and receive on {@code fd} to {@code timeoutMs}. */
    public static void setTimeouts(int fd, int timeoutMs) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment tv = a.allocate(16); // struct timeval { long tv_sec; long tv_usec; }
            tv.set(JAVA_LONG, 0, timeoutMs / 1000);
            tv.set(JAVA_LONG, 8, (timeoutMs % 1000) * 1000L);
            Linux.setsockopt(fd, Linux.SOL_SOCKET, Linux.SO_RCVTIMEO, tv, 16);
            Linux.setsockopt(fd, Linux.SOL_SOCKET, Linux.SO_SNDTIMEO, tv, 16);
        }
    }

    /** Who is at the other end of connected socket {@code fd}. */
    public static Peer peer(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment cred = a.allocate(12); // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
            Linux.getsockopt(fd, Linux.SOL_SOCKET, Linux.SO_PEERCRED, cred);
            return new Peer(cred.get(JAVA_INT, 0), cred.get(JAVA_INT, 4), cred.get(JAVA_INT, 8));
        }
    }

    /** Sends {@code word} and, if {@code fd >= 0}, a duplicate of descriptor {@code fd}. */
    public static void send(int sock, int word, int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment msg = message(a, fd >= 0);
            msg.asSlice(MSGHDR_SIZE + 16, 4).set(JAVA_INT, 0, word);
            if (fd >= 0) {
                MemorySegment cmsg = MemorySegment.ofAddress(msg.get(JAVA_LONG, 32)).reinterpret(CMSG_SPACE_ONE_FD);
                cmsg.set(JAVA_LONG, 0, CMSG_LEN_ONE_FD);
                cmsg.set(JAVA_INT, 8, Linux.SOL_SOCKET);
                cmsg.set(JAVA_INT, 12, Linux.SCM_RIGHTS);
                cmsg.set(JAVA_INT, 16, fd);
            }
            if (Linux.sendmsg(sock, msg, 0) != 4) {
                throw new SyscallException("sendmsg(SCM_RIGHTS, fd=" + sock + ") timed out", Errno.EAGAIN);
            }
        }
    }

    /**
     * Receives one message; the descriptor it carries (if any) is close-on-exec and now owned by the
     * caller. Returns null when the socket's receive timeout expired; a closed peer is an error.
     */
    public static Message receive(int sock) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment msg = message(a, true);
            long n = Linux.recvmsg(sock, msg, MSG_CMSG_CLOEXEC);
            if (n == Linux.AGAIN) {
                return null;
            }
            int fd = -1;
            if (msg.get(JAVA_LONG, 40) >= CMSG_LEN_ONE_FD) {
                MemorySegment cmsg = MemorySegment.ofAddress(msg.get(JAVA_LONG, 32)).reinterpret(CMSG_SPACE_ONE_FD);
                if (cmsg.get(JAVA_INT, 8) == Linux.SOL_SOCKET && cmsg.get(JAVA_INT, 12) == Linux.SCM_RIGHTS) {
                    fd = cmsg.get(JAVA_INT, 16);
                }
            }
            if (n != 4) {
                if (fd >= 0) {
                    Linux.close(fd);
                }
                throw new SyscallException("recvmsg(SCM_RIGHTS, fd=" + sock + "): " + (n == 0 ? "peer closed" : n + "-byte message"),
                        Errno.EPIPE);
            }
            return new Message(msg.asSlice(MSGHDR_SIZE + 16, 4).get(JAVA_INT, 0), fd);
        }
    }

    /** msghdr + iovec + 4-byte payload + (optionally) a control buffer for one fd, in one allocation. */
    private static MemorySegment message(Arena a, boolean withControl) {
        MemorySegment all = a.allocate(MSGHDR_SIZE + 16 + 8 + CMSG_SPACE_ONE_FD, 8);
        MemorySegment msg = all.asSlice(0, MSGHDR_SIZE);
        MemorySegment iov = all.asSlice(MSGHDR_SIZE, 16);
        MemorySegment data = all.asSlice(MSGHDR_SIZE + 16, 8);
        MemorySegment control = all.asSlice(MSGHDR_SIZE + 24, CMSG_SPACE_ONE_FD);
        iov.set(JAVA_LONG, 0, data.address());
        iov.set(JAVA_LONG, 8, 4);
        msg.set(JAVA_LONG, 16, iov.address());
        msg.set(JAVA_LONG, 24, 1);
        if (withControl) {
            msg.set(JAVA_LONG, 32, control.address());
            msg.set(JAVA_LONG, 40, CMSG_SPACE_ONE_FD);
        }
        return all;
    }
}
