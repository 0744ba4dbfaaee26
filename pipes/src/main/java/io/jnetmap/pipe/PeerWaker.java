package io.jnetmap.pipe;

import io.jnetmap.core.RingLayout;
import io.jnetmap.sys.EventFd;
import io.jnetmap.sys.Linux;
import io.jnetmap.sys.SyscallException;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Wakes the user of one of the peer's rings, with no daemon: the peer publishes its pid and the number
 * of its eventfd in the ring ({@link PipeLayout#WAKE_SEQ_OFFSET}); the first time the peer needs waking,
 * this end duplicates that descriptor into its own process with {@code pidfd_open} + {@code
 * pidfd_getfd} (same user or CAP_SYS_PTRACE) or, where that is refused, asks the peer's {@link
 * WakeFdServer} for it by SCM_RIGHTS, and keeps the duplicate until the peer publishes another one. Used by one thread (the one that syncs the ring pair).
 *
 * <p>Costs a system call only when the peer's user armed its need-wake-up flag (the ring's {@code USER_WAIT}):
 * two busy ends exchange packets with no system call at all.
 */
final class PeerWaker implements AutoCloseable {

    private final MemorySegment mem;
    private final long ring;
    private int seq;
    private EventFd fd;
    private long signals;
    private long failures;
    private long bySocket;
    private volatile String lastFailure;

    /** Wakes the user of the ring at offset {@code ring} of {@code mem}. */
    PeerWaker(MemorySegment mem, long ring) {
        this.mem = mem;
        this.ring = ring;
    }

    /**
     * Called after publishing work to the peer's ring: signals the peer if its user sleeps on that
     * ring. The full fence orders the publication before the read of the flag; the sleeper orders its
     * flag store before its re-check (the other half of the Dekker pair).
     */
    void wakeIfWaiting() {
        VarHandle.fullFence();
        if (RingLayout.lvUserWait(mem, ring) == 0) {
            return;
        }
        int s = PipeLayout.laWakeSeq(mem, ring);
        if (s != seq) {
            refresh(s);
        }
        if (fd != null) {
            fd.signal();
            signals++;
        }
    }

    /** Takes the peer's newly published descriptor (or drops the old one if none is published). */
    private void refresh(int s) {
        closeFd();
        seq = s;
        if ((s & 1) == 0) {
            return;
        }
        int pid = mem.get(JAVA_INT, ring + PipeLayout.OWNER_PID_OFFSET);
        int peerFd = mem.get(JAVA_INT, ring + PipeLayout.EVENT_FD_OFFSET);
        int dup = -1;
        try {
            dup = take(pid, peerFd);
            // the seqlock closes the race with a peer closing (and its fd number being reused) meanwhile
            if (PipeLayout.laWakeSeq(mem, ring) != s || !isEventFd(dup)) {
                Linux.close(dup);
                return;
            }
            fd = EventFd.adopt(dup);
        } catch (SyscallException e) {
            failures++;
            lastFailure = "cannot take the peer's wake-up descriptor (pid " + pid + ", fd " + peerFd + "): " + e.getMessage();
            if (dup >= 0) {
                Linux.close(dup);
            }
        }
    }

    /**
     * A duplicate of descriptor {@code peerFd} of process {@code pid}: by {@code pidfd_getfd}, or, where
     * that is refused (EPERM under Yama or with fewer capabilities than the peer, ENOSYS under a seccomp
     * profile), from the peer's {@link WakeFdServer} by SCM_RIGHTS. Throws with both reasons if neither works.
     */
    private int take(int pid, int peerFd) {
        try {
            int pidfd = Linux.pidfdOpen(pid);
            try {
                return Linux.pidfdGetfd(pidfd, peerFd);
            } finally {
                Linux.close(pidfd);
            }
        } catch (SyscallException refused) {
            try {
                int fd = WakeFdServer.fetch(pid, peerFd);
                bySocket++;
                return fd;
            } catch (SyscallException e) {
                throw new SyscallException(refused.getMessage() + "; then " + e.call(), e.errno());
            }
        }
    }

    private static boolean isEventFd(int fd) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString().equals("anon_inode:[eventfd]");
        } catch (IOException e) {
            return false;
        }
    }

    /** Wake-ups sent (system calls made). */
    long signals() {
        return signals;
    }

    /** Peer descriptors obtained from the peer's {@link WakeFdServer} because pidfd_getfd was refused. */
    long fetchedBySocket() {
        return bySocket;
    }

    /** Times the peer's descriptor could not be obtained by either way. */
    long failures() {
        return failures;
    }

    String lastFailure() {
        return lastFailure;
    }

    private void closeFd() {
        if (fd != null) {
            fd.close();
            fd = null;
        }
    }

    @Override
    public void close() {
        closeFd();
    }
}
