package io.jnetmap.vhost;

import io.jnetmap.sys.EventFd;
import io.jnetmap.sys.Linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/**
 * A vhost-user front-end and virtio-net driver played by the test, as QEMU and a guest kernel would:
 * guest memory is a shared file (passed by SCM_RIGHTS), the rings are written here by hand.
 *
 * <pre>
 * guest-physical layout (1 MiB):  0x0000 rx desc, 0x1000 rx avail, 0x2000 rx used,
 *                                 0x4000 tx desc, 0x5000 tx avail, 0x6000 tx used, 0x10000.. buffers
 * </pre>
 */
final class FrontEnd implements AutoCloseable {
    static final long SIZE = 1 << 20;
    /** Front-end virtual address of guest-physical 0 (only ring addresses use this space). */
    static final long UVA = 0x7f00_0000_0000L;
    static final int NUM = 256;
    static final long[] DESC = {0x0000, 0x4000};
    static final long[] AVAIL = {0x1000, 0x5000};
    static final long[] USED = {0x2000, 0x6000};
    static final long BUFS = 0x10000;

    final Arena arena = Arena.ofShared();
    final MemorySegment mem;
    final int memFd;
    final VhostUserChannel ch;
    final EventFd[] kick = {EventFd.create(), EventFd.create()};
    final EventFd[] call = {EventFd.create(), EventFd.create()};
    final int[] availIdx = new int[2];
    final int[] lastUsed = new int[2];
    long features;

    FrontEnd(String socketPath) throws Exception {
        Path f = Files.createTempFile(Path.of("/dev/shm"), "vhost-guest", ".mem");
        memFd = Linux.open(f.toString(), Linux.O_RDWR | Linux.O_CLOEXEC, 0);
        Files.delete(f);
        Linux.ftruncate(memFd, SIZE);
        mem = Linux.mmap(SIZE, Linux.PROT_READ | Linux.PROT_WRITE, Linux.MAP_SHARED, memFd, 0, arena);
        int fd = -1;
        for (int i = 0; i < 100 && fd < 0; i++) {
            fd = VhostUserChannel.connect(socketPath);
            if (fd < 0) {
                Thread.sleep(20);
            }
        }
        if (fd < 0) {
            throw new IllegalStateException("nobody listens on " + socketPath);
        }
        ch = new VhostUserChannel(fd);
        ch.setTimeouts(5000);
    }

    // --------------------------------------------------------------------------- protocol

    void header(int req, int flags, int size) {
        ch.msg.set(JAVA_INT, 0, req);
        ch.msg.set(JAVA_INT, 4, VhostUser.VERSION | flags);
        ch.msg.set(JAVA_INT, 8, size);
    }

    long getU64(int req) {
        header(req, 0, 0);
        ch.write();
        return replyU64(req);
    }

    long replyU64(int req) {
        if (!ch.read()) {
            throw new IllegalStateException("back-end closed the connection");
        }
        if (ch.request() != req || (ch.flags() & VhostUser.REPLY) == 0) {
            throw new IllegalStateException("reply to " + ch.request() + " flags " + ch.flags());
        }
        return ch.msg.get(JAVA_LONG_UNALIGNED, 12);
    }

    /** Sends a request with a u64 payload, asks for an ack, returns its status. */
    long setU64(int req, long v, int... fds) {
        header(req, VhostUser.NEED_REPLY, 8);
        ch.msg.set(JAVA_LONG_UNALIGNED, 12, v);
        ch.write(fds, fds.length);
        return replyU64(req);
    }

    long setState(int req, int index, int num) {
        header(req, VhostUser.NEED_REPLY, 8);
        ch.msg.set(JAVA_INT, 12, index);
        ch.msg.set(JAVA_INT, 16, num);
        ch.write();
        return replyU64(req);
    }

    long setMemTable() {
        header(VhostUser.SET_MEM_TABLE, VhostUser.NEED_REPLY, 8 + 32);
        ch.msg.set(JAVA_INT, 12, 1);
        ch.msg.set(JAVA_INT, 16, 0);
        ch.msg.set(JAVA_LONG_UNALIGNED, 20, 0);
        ch.msg.set(JAVA_LONG_UNALIGNED, 28, SIZE);
        ch.msg.set(JAVA_LONG_UNALIGNED, 36, UVA);
        ch.msg.set(JAVA_LONG_UNALIGNED, 44, 0);
        ch.write(new int[] {memFd}, 1);
        return replyU64(VhostUser.SET_MEM_TABLE);
    }

    long setAddr(int q) {
        header(VhostUser.SET_VRING_ADDR, VhostUser.NEED_REPLY, 40);
        ch.msg.set(JAVA_INT, 12, q);
        ch.msg.set(JAVA_INT, 16, 0);
        ch.msg.set(JAVA_LONG_UNALIGNED, 20, UVA + DESC[q]);
        ch.msg.set(JAVA_LONG_UNALIGNED, 28, UVA + USED[q]);
        ch.msg.set(JAVA_LONG_UNALIGNED, 36, UVA + AVAIL[q]);
        ch.msg.set(JAVA_LONG_UNALIGNED, 44, 0);
        ch.write();
        return replyU64(VhostUser.SET_VRING_ADDR);
    }

    /** The start-up sequence QEMU runs for a virtio-net device with one queue pair. */
    void start(long wantFeatures) {
        long offered = getU64(VhostUser.GET_FEATURES);
        features = offered & wantFeatures;
        header(VhostUser.SET_FEATURES, 0, 8);
        ch.msg.set(JAVA_LONG_UNALIGNED, 12, features);
        ch.write();
        long pf = getU64(VhostUser.GET_PROTOCOL_FEATURES);
        if ((pf & VhostUser.PF_REPLY_ACK) == 0) {
            throw new IllegalStateException("no REPLY_ACK");
        }
        header(VhostUser.SET_PROTOCOL_FEATURES, 0, 8);
        ch.msg.set(JAVA_LONG_UNALIGNED, 12, VhostUser.PF_REPLY_ACK);
        ch.write();
        header(VhostUser.SET_OWNER, 0, 0);
        ch.write();
        check(setMemTable(), "SET_MEM_TABLE");
        for (int q = 0; q < 2; q++) {
            check(setState(VhostUser.SET_VRING_NUM, q, NUM), "SET_VRING_NUM");
            check(setAddr(q), "SET_VRING_ADDR");
            check(setState(VhostUser.SET_VRING_BASE, q, 0), "SET_VRING_BASE");
            check(setU64(VhostUser.SET_VRING_CALL, q, call[q].fd()), "SET_VRING_CALL");
            check(setU64(VhostUser.SET_VRING_KICK, q, kick[q].fd()), "SET_VRING_KICK");
            check(setState(VhostUser.SET_VRING_ENABLE, q, 1), "SET_VRING_ENABLE");
        }
    }

    static void check(long status, String what) {
        if (status != 0) {
            throw new IllegalStateException(what + " failed: " + status);
        }
    }

    /** GET_VRING_BASE: stops ring q and returns its next avail index. */
    int getVringBase(int q) {
        header(VhostUser.GET_VRING_BASE, 0, 8);
        ch.msg.set(JAVA_INT, 12, q);
        ch.msg.set(JAVA_INT, 16, 0);
        ch.write();
        if (!ch.read() || ch.request() != VhostUser.GET_VRING_BASE) {
            throw new IllegalStateException("no GET_VRING_BASE reply");
        }
        return ch.msg.get(JAVA_INT, 16);
    }

    /** True if the back-end closed the connection (read returns end of stream). */
    boolean closedByBackEnd() {
        try {
            return !ch.read();
        } catch (RuntimeException e) {
            return true;
        }
    }

    // --------------------------------------------------------------------------- rings

    void desc(int q, int i, long addr, int len, int flags, int next) {
        long at = DESC[q] + 16L * i;
        mem.set(JAVA_LONG_UNALIGNED, at, addr);
        mem.set(JAVA_INT_UNALIGNED, at + 8, len);
        mem.set(JAVA_SHORT_UNALIGNED, at + 12, (short) flags);
        mem.set(JAVA_SHORT_UNALIGNED, at + 14, (short) next);
    }

    /** Makes descriptor chain {@code head} available and publishes the avail index (no kick). */
    void makeAvailable(int q, int head) {
        mem.set(JAVA_SHORT_UNALIGNED, AVAIL[q] + 4 + 2L * (availIdx[q] % NUM), (short) head);
        availIdx[q] = (availIdx[q] + 1) & 0xffff;
        java.lang.invoke.VarHandle.fullFence();
        mem.set(JAVA_SHORT_UNALIGNED, AVAIL[q] + 2, (short) availIdx[q]);
    }

    void setAvailIdx(int q, int idx) {
        mem.set(JAVA_SHORT_UNALIGNED, AVAIL[q] + 2, (short) idx);
    }

    int usedIdx(int q) {
        java.lang.invoke.VarHandle.fullFence();
        return mem.get(JAVA_SHORT_UNALIGNED, USED[q] + 2) & 0xffff;
    }

    int usedId(int q, int i) {
        return mem.get(JAVA_INT_UNALIGNED, USED[q] + 4 + 8L * (i % NUM));
    }

    int usedLen(int q, int i) {
        return mem.get(JAVA_INT_UNALIGNED, USED[q] + 4 + 8L * (i % NUM) + 4);
    }

    int availEvent(int q) {
        return mem.get(JAVA_SHORT_UNALIGNED, USED[q] + 4 + 8L * NUM) & 0xffff;
    }

    @Override
    public void close() {
        ch.close();
        Linux.close(memFd);
        for (EventFd e : kick) {
            e.close();
        }
        for (EventFd e : call) {
            e.close();
        }
        arena.close();
    }
}
