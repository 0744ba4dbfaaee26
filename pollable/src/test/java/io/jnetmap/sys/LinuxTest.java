package io.jnetmap.sys;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every binding against the real kernel. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class LinuxTest {
    @TempDir
    Path dir;

    @Test
    void readAtAndWriteAtReturnAgainOrToleratedErrnosOrThrow() {
        try (EventFd efd = EventFd.create(); Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(16, 8);
            int[] none = new int[0];
            assertEquals(Linux.AGAIN, Linux.readAt(efd.fd(), buf, 0, 8, none), "nothing signalled yet");
            buf.set(JAVA_LONG, 0, 3L);
            assertEquals(8, Linux.writeAt(efd.fd(), buf, 0, 8, none));
            assertEquals(8, Linux.readAt(efd.fd(), buf, 8, 8, none));
            assertEquals(3L, buf.get(JAVA_LONG, 8));
            // an eventfd moves exactly 8 bytes: 4 is EINVAL, returned negated when tolerated, else thrown
            assertEquals(-Errno.EINVAL, Linux.writeAt(efd.fd(), buf, 0, 4, new int[] {Errno.EINVAL}));
            assertEquals(-Errno.EINVAL, Linux.readAt(efd.fd(), buf, 0, 4, new int[] {Errno.EAGAIN, Errno.EINVAL}));
            SyscallException e = assertThrows(SyscallException.class, () -> Linux.writeAt(efd.fd(), buf, 0, 4, none));
            assertTrue(e.getMessage().contains("write(fd=" + efd.fd() + ")"), e.getMessage());
            e = assertThrows(SyscallException.class, () -> Linux.readAt(efd.fd(), buf, 0, 4, none));
            assertTrue(e.getMessage().contains("read(fd=" + efd.fd() + ")"), e.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> Linux.readAt(efd.fd(), buf, 12, 8, none));
        }
    }

    @Test
    void openFtruncateMmapWriteReadClose() throws Exception {
        Path file = dir.resolve("f");
        int fd = Linux.open(file.toString(), Linux.O_RDWR | Linux.O_CREAT | Linux.O_EXCL | Linux.O_CLOEXEC, 0600);
        try (Arena arena = Arena.ofConfined()) {
            Linux.ftruncate(fd, 8192);
            assertEquals(8192, Files.size(file));
            MemorySegment m = Linux.mmap(8192, Linux.PROT_READ | Linux.PROT_WRITE, Linux.MAP_SHARED, fd, 0, arena);
            m.set(JAVA_LONG, 4096, 0x1122334455667788L);
            MemorySegment buf = arena.allocate(8);
            buf.set(JAVA_LONG, 0, 42L);
            assertEquals(8, Linux.write(fd, buf, 8), "write at offset 0");
            assertEquals(42L, m.get(JAVA_LONG, 0), "the mapping sees write(2)");
            byte[] onDisk = Files.readAllBytes(file);
            assertEquals(0x1122334455667788L,
                    MemorySegment.ofArray(onDisk).get(JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN).withByteAlignment(1), 4096),
                    "the file sees the mapping");
        } finally {
            Linux.close(fd);
        }
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    }

    @Test
    void failuresNameTheCallAndTheErrno() {
        SyscallException e = assertThrows(SyscallException.class, () -> Linux.open(dir.resolve("missing").toString(), Linux.O_RDONLY, 0));
        assertEquals(Errno.ENOENT, e.errno());
        assertEquals("ENOENT", e.errnoName());
        assertTrue(e.getMessage().contains("open(") && e.getMessage().contains("ENOENT")
                && e.getMessage().contains("No such file or directory"), e.getMessage());
        SyscallException bad = assertThrows(SyscallException.class, () -> Linux.close(-1));
        assertEquals(Errno.EBADF, bad.errno());
        assertTrue(bad.getMessage().startsWith("close(fd=-1) failed: EBADF"), bad.getMessage());
        assertEquals("errno 4242", Errno.name(4242));
    }

    @Test
    void anonymousMmapAndMunmapViaArena() {
        MemorySegment m;
        try (Arena arena = Arena.ofConfined()) {
            m = Linux.mmap(1 << 20, Linux.PROT_READ | Linux.PROT_WRITE,
                    Linux.MAP_PRIVATE | Linux.MAP_ANONYMOUS | Linux.MAP_POPULATE, -1, 0, arena);
            assertEquals(0, m.address() % 4096);
            m.set(JAVA_INT, (1 << 20) - 4, 7);
            assertEquals(7, m.get(JAVA_INT, (1 << 20) - 4));
        }
        assertFalse(m.scope().isAlive(), "closing the arena unmapped it");
        assertThrows(SyscallException.class, () -> Linux.mmap(1 << 20, Linux.PROT_READ, Linux.MAP_SHARED, 99999, 0, Arena.global()));
    }

    @Test
    void eventfdSignalDrainAndAgain() {
        try (EventFd e = EventFd.create()) {
            assertFalse(e.drain(), "empty eventfd: read is EAGAIN, reported as a result");
            e.signal();
            e.signal();
            assertTrue(e.drain());
            assertFalse(e.drain());
        }
        try (Arena a = Arena.ofConfined()) {
            int fd = Linux.eventfd(0, Linux.EFD_NONBLOCK | Linux.EFD_CLOEXEC);
            assertEquals(Linux.AGAIN, Linux.read(fd, a.allocate(8), 8));
            Linux.close(fd);
        }
    }

    @Test
    void epollWaitsForAnEventfdAcrossThreads() throws Exception {
        try (EventFd e = EventFd.create(); Epoll ep = new Epoll(4)) {
            ep.add(e.fd(), Linux.EPOLLIN, 77L);
            assertEquals(0, ep.await(0));
            long t0 = System.nanoTime();
            assertEquals(0, ep.await(20), "timeout");
            assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(15));
            Thread t = new Thread(() -> {
                try {
                    Thread.sleep(20);
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
                e.signal();
            });
            t.start();
            assertEquals(1, ep.await(5000));
            assertEquals(77L, ep.data(0));
            assertTrue((ep.events(0) & Linux.EPOLLIN) != 0);
            assertThrows(IndexOutOfBoundsException.class, () -> ep.data(1));
            t.join();
            e.drain();
            ep.modify(e.fd(), Linux.EPOLLIN | Linux.EPOLLET, 78L);
            e.signal();
            assertEquals(1, ep.await(0));
            assertEquals(78L, ep.data(0));
            ep.remove(e.fd());
            assertEquals(0, ep.await(0));
            assertThrows(SyscallException.class, () -> ep.remove(e.fd()));
        }
    }

    @Test
    void pollOnASocketpairAndIoctlFionread() {
        int[] sv = Linux.socketpair(Linux.AF_UNIX, Linux.SOCK_STREAM | Linux.SOCK_CLOEXEC, 0);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment pfd = a.allocate(8);
            pfd.set(JAVA_INT, 0, sv[1]);
            pfd.set(JAVA_SHORT, 4, Linux.POLLIN);
            assertEquals(0, Linux.poll(pfd, 1, 0));
            MemorySegment msg = a.allocateFrom("hello");
            assertEquals(5, Linux.send(sv[0], msg, 5, 0));
            assertEquals(1, Linux.poll(pfd, 1, 1000));
            assertEquals(Linux.POLLIN, pfd.get(JAVA_SHORT, 6) & Linux.POLLIN);
            MemorySegment n = a.allocate(JAVA_INT);
            Linux.ioctl(sv[1], 0x541B /* FIONREAD */, n);
            assertEquals(5, n.get(JAVA_INT, 0));
            MemorySegment in = a.allocate(16);
            assertEquals(5, Linux.recv(sv[1], in, 16, 0));
            assertEquals("hello", in.getString(0));
            assertEquals(Linux.AGAIN, Linux.recv(sv[1], in, 16, Linux.MSG_DONTWAIT));
            assertThrows(SyscallException.class, () -> Linux.ioctl(sv[1], 0x7fff_0000L, n), "unknown ioctl");
        } finally {
            Linux.close(sv[0]);
            Linux.close(sv[1]);
        }
    }

    @Test
    void udpSocketBindSetsockoptSendtoRecvfrom() {
        int s = Linux.socket(Linux.AF_INET, Linux.SOCK_DGRAM | Linux.SOCK_CLOEXEC, 0);
        try (Arena a = Arena.ofConfined()) {
            Linux.setsockoptInt(s, Linux.SOL_SOCKET, Linux.SO_RCVBUF, 65536);
            assertTrue(Linux.getsockoptInt(s, Linux.SOL_SOCKET, Linux.SO_RCVBUF) >= 65536, "kernel doubles it");
            // struct sockaddr_in { u16 family; u16 port (BE); u32 addr (BE); u8 zero[8]; } = 16 bytes
            MemorySegment sin = a.allocate(16);
            sin.set(JAVA_SHORT, 0, (short) Linux.AF_INET);
            sin.set(JAVA_INT.withOrder(ByteOrder.BIG_ENDIAN), 4, 0x7f000001);
            Linux.bind(s, sin, 16);
            MemorySegment bound = a.allocate(16);
            MemorySegment len = a.allocateFrom(JAVA_INT, 16);
            assertEquals(16, Linux.getsockname(s, bound));
            int port = Short.toUnsignedInt(bound.get(JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN), 2));
            assertNotEquals(0, port, "the kernel chose a port");
            sin.set(JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN), 2, (short) port);
            MemorySegment data = a.allocateFrom("ping");
            assertEquals(4, Linux.sendto(s, data, 4, 0, sin, 16));
            MemorySegment in = a.allocate(64);
            assertEquals(4, Linux.recvfrom(s, in, 64, 0, bound, len));
            assertEquals("ping", in.getString(0).substring(0, 4));
            assertEquals(Linux.AF_INET, bound.get(JAVA_SHORT, 0));
            assertEquals(Linux.AGAIN, Linux.recv(s, in, 64, Linux.MSG_DONTWAIT));
            assertThrows(SyscallException.class, () -> Linux.bind(s, sin, 16), "already bound: EINVAL");
        } finally {
            Linux.close(s);
        }
    }

    @Test
    void sendmsgAndRecvmsgPassADescriptor() {
        int[] sv = Linux.socketpair(Linux.AF_UNIX, Linux.SOCK_DGRAM | Linux.SOCK_CLOEXEC, 0);
        try (Arena a = Arena.ofConfined(); EventFd passed = EventFd.create()) {
            MemorySegment data = a.allocateFrom("x");
            MemorySegment iov = a.allocate(16);
            iov.set(JAVA_LONG, 0, data.address());
            iov.set(JAVA_LONG, 8, 1);
            // cmsghdr { u64 len; i32 level; i32 type; int fd; } padded to 24 bytes
            MemorySegment cmsg = a.allocate(24);
            cmsg.set(JAVA_LONG, 0, 20);
            cmsg.set(JAVA_INT, 8, Linux.SOL_SOCKET);
            cmsg.set(JAVA_INT, 12, Linux.SCM_RIGHTS);
            cmsg.set(JAVA_INT, 16, passed.fd());
            // msghdr { name, namelen(+pad), iov, iovlen, control, controllen, flags } = 56 bytes
            MemorySegment msg = a.allocate(56);
            msg.set(JAVA_LONG, 16, iov.address());
            msg.set(JAVA_LONG, 24, 1);
            msg.set(JAVA_LONG, 32, cmsg.address());
            msg.set(JAVA_LONG, 40, 24);
            assertEquals(1, Linux.sendmsg(sv[0], msg, 0));

            MemorySegment inData = a.allocate(8);
            iov.set(JAVA_LONG, 0, inData.address());
            iov.set(JAVA_LONG, 8, 8);
            MemorySegment inCmsg = a.allocate(24);
            msg.set(JAVA_LONG, 32, inCmsg.address());
            msg.set(JAVA_LONG, 40, 24);
            assertEquals(1, Linux.recvmsg(sv[1], msg, 0));
            assertEquals(Linux.SCM_RIGHTS, inCmsg.get(JAVA_INT, 12));
            int received = inCmsg.get(JAVA_INT, 16);
            assertNotEquals(passed.fd(), received, "a new descriptor for the same eventfd");
            try (EventFd copy = EventFd.adopt(received)) {
                copy.signal();
                assertTrue(passed.drain(), "signalling the received fd wakes the original");
            }
            assertEquals(Linux.AGAIN, Linux.recvmsg(sv[1], msg, Linux.MSG_DONTWAIT));
        } finally {
            Linux.close(sv[0]);
            Linux.close(sv[1]);
        }
    }

    @Test
    void pidfdGetfdDuplicatesADescriptorOfAProcess() {
        try (EventFd e = EventFd.create()) {
            int pidfd = Linux.pidfdOpen(Linux.getpid());
            try {
                int dup = Linux.pidfdGetfd(pidfd, e.fd());
                try (EventFd copy = EventFd.adopt(dup)) {
                    copy.signal();
                    assertTrue(e.drain());
                }
            } finally {
                Linux.close(pidfd);
            }
        }
        assertThrows(SyscallException.class, () -> Linux.pidfdOpen(-5));
    }

    @Test
    void affinityPinsTheCallingThread() throws Exception {
        BitSet allowed = Affinity.currentThread();
        assertFalse(allowed.isEmpty());
        int cpu = allowed.nextSetBit(0);
        Thread t = new Thread(() -> {
            Affinity.pinCurrentThread(cpu);
            BitSet now = Affinity.currentThread();
            assertEquals(1, now.cardinality());
            assertTrue(now.get(cpu));
        });
        t.start();
        t.join();
        assertEquals(allowed, Affinity.currentThread(), "only the pinned thread changed");
        assertThrows(IllegalArgumentException.class, () -> Affinity.pinCurrentThread(-1));
    }

    @Test
    void processIdentity() {
        assertEquals(ProcessHandle.current().pid(), Linux.getpid());
        assertTrue(Linux.gettid() > 0);
        assertTrue(Linux.processAlive(Linux.getpid()));
        assertFalse(Linux.processAlive(Integer.MAX_VALUE - 1));
        assertTrue(Linux.geteuid() >= 0);
    }

    @Test
    void interfaceIndex() {
        assertEquals(1, Linux.ifNameToIndex("lo"));
        assertEquals(0, Linux.ifNameToIndex("no-such-if0"));
    }

    @Test
    void fcntlReadsFlags() {
        try (EventFd e = EventFd.create()) {
            assertTrue((Linux.fcntl(e.fd(), Linux.F_GETFL, 0) & Linux.O_NONBLOCK) != 0);
        }
    }

    @Test
    void bpfCreatesAMapOrSaysWhyNot() {
        try (Arena a = Arena.ofConfined()) {
            // BPF_MAP_CREATE of a 1-entry BPF_MAP_TYPE_ARRAY (type 2), key 4, value 8
            MemorySegment attr = a.allocate(144);
            attr.set(JAVA_INT, 0, 2);
            attr.set(JAVA_INT, 4, 4);
            attr.set(JAVA_INT, 8, 8);
            attr.set(JAVA_INT, 12, 1);
            try {
                int fd = Linux.bpf(0, attr, 144);
                assertTrue(fd > 0);
                Linux.close(fd);
                assertEquals(0, Linux.geteuid(), "only root (or CAP_BPF) gets here");
            } catch (SyscallException e) {
                assertNotEquals(0, Linux.geteuid(), "root must be able to create a map: " + e.getMessage());
                assertEquals(Errno.EPERM, e.errno());
            }
            attr.set(JAVA_INT, 0, 9999);
            SyscallException e = assertThrows(SyscallException.class, () -> Linux.bpf(0, attr, 144));
            assertTrue(e.getMessage().startsWith("bpf(cmd=0)"), e.getMessage());
        }
    }
}
