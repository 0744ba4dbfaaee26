package io.jnetmap.sys;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SCM_RIGHTS over abstract AF_UNIX sockets, against the real kernel (in one process; across processes in the pipe tests). */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class FdPassingTest {
    private static String unique() {
        return "jnetmap.test." + ProcessHandle.current().pid() + "." + System.nanoTime();
    }

    @Test
    void aDescriptorCrossesWithItsWordAndTheCredentialsAreTheSender() {
        String name = unique();
        int l = FdPassing.listen(name, 4);
        int c = FdPassing.connect(name, 1000);
        int s = Linux.accept4(l, Linux.SOCK_CLOEXEC);
        try (EventFd passed = EventFd.create()) {
            FdPassing.Peer p = FdPassing.peer(s);
            assertEquals(Linux.getpid(), p.pid());
            assertEquals(Linux.geteuid(), p.uid());
            FdPassing.send(s, 42, passed.fd());
            FdPassing.Message m = FdPassing.receive(c);
            assertEquals(42, m.word());
            assertNotEquals(passed.fd(), m.fd(), "a new descriptor");
            try (EventFd copy = EventFd.adopt(m.fd())) {
                copy.signal();
                assertTrue(passed.drain(), "the received descriptor is the same eventfd");
            }
            FdPassing.send(s, 7, -1);
            assertEquals(new FdPassing.Message(7, -1), FdPassing.receive(c));
        } finally {
            Linux.close(s);
            Linux.close(c);
            Linux.close(l);
        }
    }

    @Test
    void aSilentPeerTimesOutAndAClosedOneIsAnError() {
        String name = unique();
        int l = FdPassing.listen(name, 4);
        int c = FdPassing.connect(name, 100);
        int s = Linux.accept4(l, Linux.SOCK_CLOEXEC);
        try {
            long t0 = System.nanoTime();
            assertNull(FdPassing.receive(c), "nothing within the timeout");
            assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(90));
            Linux.close(s);
            s = -1;
            SyscallException e = assertThrows(SyscallException.class, () -> FdPassing.receive(c));
            assertTrue(e.getMessage().contains("peer closed"), e.getMessage());
        } finally {
            if (s >= 0) {
                Linux.close(s);
            }
            Linux.close(c);
            Linux.close(l);
        }
    }

    @Test
    void nobodyListeningAndBadNamesAreClearErrors() {
        SyscallException e = assertThrows(SyscallException.class, () -> FdPassing.connect(unique(), 100));
        assertEquals(Errno.ECONNREFUSED, e.errno());
        assertThrows(IllegalArgumentException.class, () -> FdPassing.listen("", 1));
        assertThrows(IllegalArgumentException.class, () -> FdPassing.listen("x".repeat(108), 1));
        String name = unique();
        int l = FdPassing.listen(name, 1);
        try {
            assertEquals(Errno.EADDRINUSE, assertThrows(SyscallException.class, () -> FdPassing.listen(name, 1)).errno());
        } finally {
            Linux.close(l);
        }
    }
}
