package io.jnetmap.vhost;

import io.jnetmap.sys.FdPassing;
import io.jnetmap.sys.Linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * One vhost-user connection: an {@code AF_UNIX SOCK_STREAM} socket carrying messages of a 12-byte
 * header ({@code u32 request, u32 flags, u32 size}) and {@code size} bytes of payload, with up to
 * {@link #MAX_FDS} descriptors attached by {@code SCM_RIGHTS} to the header. Not a hot path; one
 * thread uses a channel; its buffers are allocated once.
 *
 * <pre>
 * msghdr  { void *name; u32 namelen; (pad); iovec *iov; u64 iovlen; void *control; u64 controllen; int flags }  56 B
 * cmsghdr { u64 len; int level = SOL_SOCKET; int type = SCM_RIGHTS; int fd[n] }                               16 + 4n B
 * </pre>
 */
final class VhostUserChannel implements AutoCloseable {
    static final int HEADER = 12;
    static final int MAX_PAYLOAD = 4096;
    static final int MAX_FDS = 8;
    private static final int MSGHDR_SIZE = 56;
    private static final int CONTROL_SIZE = 16 + 4 * MAX_FDS + 8;
    private static final int MSG_CTRUNC = 0x8;
    private static final int MSG_CMSG_CLOEXEC = 0x40000000;
    private static final int MAX_PATH = 107;

    final int fd;
    private final Arena arena = Arena.ofShared();
    /** header + payload of the message being read or written. */
    final MemorySegment msg = arena.allocate(HEADER + MAX_PAYLOAD, 8);
    private final MemorySegment hdr = arena.allocate(MSGHDR_SIZE + 16 + CONTROL_SIZE, 8);
    /** Descriptors received with the last message (this process's now), {@link #fdCount} of them. */
    final int[] fds = new int[MAX_FDS];
    int fdCount;

    VhostUserChannel(int fd) {
        this.fd = fd;
    }

    /** sockaddr_un for a file system path. */
    static MemorySegment address(Arena a, String path) {
        byte[] b = path.getBytes(StandardCharsets.UTF_8);
        if (b.length == 0 || b.length > MAX_PATH) {
            throw new IllegalArgumentException("vhost socket path " + path + " (expected: 1.." + MAX_PATH + " bytes)");
        }
        MemorySegment sa = a.allocate(2 + b.length + 1);
        sa.set(JAVA_SHORT, 0, (short) Linux.AF_UNIX);
        MemorySegment.copy(MemorySegment.ofArray(b), 0, sa, 2, b.length);
        return sa;
    }

    /** A listening stream socket at {@code path} (an old socket file there is replaced). */
    static int listen(String path) {
        int fd = Linux.socket(Linux.AF_UNIX, Linux.SOCK_STREAM | Linux.SOCK_CLOEXEC, 0);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sa = address(a, path);
            Linux.bind(fd, sa, (int) sa.byteSize());
            Linux.listen(fd, 4);
            return fd;
        } catch (RuntimeException e) {
            Linux.close(fd);
            throw e;
        }
    }

    /** A stream socket connected to {@code path}, or -1 if nobody listens there (yet). */
    static int connect(String path) {
        int fd = Linux.socket(Linux.AF_UNIX, Linux.SOCK_STREAM | Linux.SOCK_CLOEXEC, 0);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sa = address(a, path);
            Linux.connect(fd, sa, (int) sa.byteSize());
            return fd;
        } catch (RuntimeException e) {
            Linux.close(fd);
            return -1;
        }
    }

    /** Bounds blocking reads and writes (a peer that stops mid-message must not hang the control thread). */
    void setTimeouts(int ms) {
        FdPassing.setTimeouts(fd, ms);
    }

    int request() {
        return msg.get(JAVA_INT, 0);
    }

    int flags() {
        return msg.get(JAVA_INT, 4);
    }

    int size() {
        return msg.get(JAVA_INT, 8);
    }

    /**
     * Reads one message into {@link #msg} and its descriptors into {@link #fds}. Returns false at end of
     * stream; throws {@link VhostProtocolException} for a malformed one (descriptors closed).
     */
    boolean read() {
        closeFds();
        MemorySegment m = hdr.asSlice(0, MSGHDR_SIZE);
        MemorySegment iov = hdr.asSlice(MSGHDR_SIZE, 16);
        MemorySegment control = hdr.asSlice(MSGHDR_SIZE + 16, CONTROL_SIZE);
        m.fill((byte) 0);
        control.fill((byte) 0);
        iov.set(JAVA_LONG, 0, msg.address());
        iov.set(JAVA_LONG, 8, HEADER);
        m.set(JAVA_LONG, 16, iov.address());
        m.set(JAVA_LONG, 24, 1);
        m.set(JAVA_LONG, 32, control.address());
        m.set(JAVA_LONG, 40, CONTROL_SIZE);
        long n = Linux.recvmsg(fd, m, MSG_CMSG_CLOEXEC);
        if (n == Linux.AGAIN) {
            throw new VhostProtocolException("no message within the timeout");
        }
        if (n == 0) {
            return false;
        }
        // control messages: SOL_SOCKET / SCM_RIGHTS, each u64 len + level + type + fds
        long clen = m.get(JAVA_LONG, 40);
        long pos = 0;
        while (pos + 16 <= clen) {
            long len = control.get(JAVA_LONG, pos);
            if (len < 16 || pos + len > clen) {
                break;
            }
            if (control.get(JAVA_INT, pos + 8) == Linux.SOL_SOCKET && control.get(JAVA_INT, pos + 12) == Linux.SCM_RIGHTS) {
                for (long o = 16; o + 4 <= len && fdCount < MAX_FDS; o += 4) {
                    fds[fdCount++] = control.get(JAVA_INT, pos + o);
                }
            }
            pos += (len + 7) & ~7L;
        }
        if ((m.get(JAVA_INT, 48) & MSG_CTRUNC) != 0) {
            closeFds();
            throw new VhostProtocolException("more than " + MAX_FDS + " descriptors with one message");
        }
        if (n < HEADER && !readFully(n, HEADER - n)) {
            closeFds();
            throw new VhostProtocolException("connection closed inside a message header");
        }
        int size = size();
        if (size < 0 || size > MAX_PAYLOAD) {
            closeFds();
            throw new VhostProtocolException("payload size=" + Integer.toUnsignedString(size) + " (expected: 0.." + MAX_PAYLOAD + ")");
        }
        if (size > 0 && !readFully(HEADER, size)) {
            closeFds();
            throw new VhostProtocolException("connection closed inside a message payload");
        }
        return true;
    }

    private boolean readFully(long off, long len) {
        while (len > 0) {
            long n = Linux.recv(fd, msg.asSlice(off, len), len, 0);
            if (n == Linux.AGAIN) {
                throw new VhostProtocolException("message cut short (no rest within the timeout)");
            }
            if (n == 0) {
                return false;
            }
            off += n;
            len -= n;
        }
        return true;
    }

    /** Sends the message in {@link #msg} as it stands (header fields set by the caller). */
    void write() {
        long len = HEADER + size();
        long off = 0;
        while (off < len) {
            long n = Linux.send(fd, msg.asSlice(off, len - off), len - off, 0x4000 /* MSG_NOSIGNAL */);
            if (n == Linux.AGAIN) {
                throw new VhostProtocolException("peer does not read its replies");
            }
            off += n;
        }
    }

    /**
     * Sends the message in {@link #msg} with {@code n} descriptors of {@code sendFds} attached (the
     * front-end's side: the tests speak it; a back-end never sends descriptors).
     */
    void write(int[] sendFds, int n) {
        if (n == 0) {
            write();
            return;
        }
        MemorySegment m = hdr.asSlice(0, MSGHDR_SIZE);
        MemorySegment iov = hdr.asSlice(MSGHDR_SIZE, 16);
        MemorySegment control = hdr.asSlice(MSGHDR_SIZE + 16, CONTROL_SIZE);
        m.fill((byte) 0);
        control.fill((byte) 0);
        long len = HEADER + size();
        iov.set(JAVA_LONG, 0, msg.address());
        iov.set(JAVA_LONG, 8, len);
        m.set(JAVA_LONG, 16, iov.address());
        m.set(JAVA_LONG, 24, 1);
        m.set(JAVA_LONG, 32, control.address());
        m.set(JAVA_LONG, 40, (16 + 4L * n + 7) & ~7L);
        control.set(JAVA_LONG, 0, 16 + 4L * n);
        control.set(JAVA_INT, 8, Linux.SOL_SOCKET);
        control.set(JAVA_INT, 12, Linux.SCM_RIGHTS);
        for (int i = 0; i < n; i++) {
            control.set(JAVA_INT, 16 + 4L * i, sendFds[i]);
        }
        if (Linux.sendmsg(fd, m, 0x4000) != len) {
            throw new VhostProtocolException("sendmsg of " + len + " bytes with descriptors was cut short");
        }
    }

    /** Takes descriptor {@code i} of the last message: the caller owns it now. */
    int takeFd(int i) {
        int f = fds[i];
        fds[i] = -1;
        return f;
    }

    void closeFds() {
        for (int i = 0; i < fdCount; i++) {
            if (fds[i] >= 0) {
                Linux.close(fds[i]);
                fds[i] = -1;
            }
        }
        fdCount = 0;
    }

    @Override
    public void close() {
        closeFds();
        Linux.close(fd);
        arena.close();
    }
}
