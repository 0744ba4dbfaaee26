package io.jnetmap.pipe;

import io.jnetmap.sys.Errno;
import io.jnetmap.sys.FdPassing;
import io.jnetmap.sys.Linux;
import io.jnetmap.sys.SyscallException;

import java.util.HashMap;
import java.util.Map;

/**
 * The way a peer gets this process's wake-up descriptors when {@code pidfd_getfd} is refused (Ubuntu's
 * Yama {@code ptrace_scope=1} between sibling processes, a container's seccomp profile, a peer without
 * CAP_SYS_PTRACE facing one with more capabilities): a daemon thread of this process, listening on the
 * abstract {@code AF_UNIX} address {@code jnetmap.wake.<pid>}, answers a request naming a descriptor
 * number with a duplicate of it by {@code SCM_RIGHTS} — only for descriptors this process published
 * in a pipe ring ({@link #offer}), and only to a peer of the same user or root ({@code SO_PEERCRED}),
 * the same people who can open the region's 0600 file. No daemon process, no file: the address goes
 * away with this process.
 *
 * <p>Started on the first {@link #offer}; one thread per process, blocked in {@code accept} while idle.
 */
final class WakeFdServer {
    /** How long either side waits for the other before giving up. */
    static final int TIMEOUT_MS = 1000;
    private static final int MY_PID = Linux.getpid();
    private static final int MY_UID = Linux.geteuid();
    /** Descriptor number -> how many open ports published it. Guarded by the class. */
    private static final Map<Integer, Integer> OFFERED = new HashMap<>();
    private static int listenFd = -1;
    /** Why the server could not start or stopped (then it is not tried again), or null. */
    private static String startFailure;

    private WakeFdServer() {
    }

    static String address(int pid) {
        return "jnetmap.wake." + pid;
    }

    /** Lets peers fetch descriptor {@code fd} (starting the server if this is the first offer). */
    static synchronized void offer(int fd) {
        OFFERED.merge(fd, 1, Integer::sum);
        if (listenFd < 0 && startFailure == null) {
            try {
                listenFd = FdPassing.listen(address(MY_PID), 16);
                Thread t = new Thread(WakeFdServer::serve, "jnetmap-wake-fd-server");
                t.setDaemon(true);
                t.start();
            } catch (SyscallException e) {
                // e.g. EADDRINUSE from a process of the same pid in another pid namespace: pidfd_getfd still works
                startFailure = e.getMessage();
            }
        }
    }

    /** Stops handing out {@code fd}: called before it is closed. */
    static synchronized void withdraw(int fd) {
        OFFERED.computeIfPresent(fd, (k, n) -> n == 1 ? null : n - 1);
    }

    private static synchronized boolean offered(int fd) {
        return OFFERED.containsKey(fd);
    }

    private static void serve() {
        while (true) {
            int c;
            try {
                c = Linux.accept4(listenFd, Linux.SOCK_CLOEXEC);
            } catch (SyscallException e) {
                if (e.errno() == Errno.EINTR || e.errno() == Errno.ECONNABORTED) {
                    continue;
                }
                synchronized (WakeFdServer.class) {
                    startFailure = "accept on " + address(MY_PID) + ": " + e.getMessage();
                }
                return;
            }
            if (c < 0) {
                continue;
            }
            try {
                answer(c);
            } catch (RuntimeException e) {
                // a peer that went away or sent garbage: only its own request fails
            } finally {
                Linux.close(c);
            }
        }
    }

    private static void answer(int c) {
        FdPassing.setTimeouts(c, TIMEOUT_MS);
        FdPassing.Message m = FdPassing.receive(c); // read first: a refusal then reaches a client waiting for its answer
        if (m == null) {
            return;
        }
        if (m.fd() >= 0) {
            Linux.close(m.fd()); // requests carry no descriptor
        }
        FdPassing.Peer p = FdPassing.peer(c);
        if (p.uid() != MY_UID && p.uid() != 0) {
            FdPassing.send(c, Errno.EACCES, -1);
            return;
        }
        // held across the send: a port closing meanwhile withdraws (and closes) its descriptor after it
        synchronized (WakeFdServer.class) {
            if (offered(m.word())) {
                FdPassing.send(c, 0, m.word());
            } else {
                FdPassing.send(c, Errno.EBADF, -1);
            }
        }
    }

    /**
     * Asks process {@code pid} for a duplicate of its descriptor {@code fd}; returns it (close-on-exec,
     * owned by the caller). Fails with the reason: no server there, refused, timed out, not offered.
     */
    static int fetch(int pid, int fd) {
        String at = address(pid);
        int c = FdPassing.connect(at, TIMEOUT_MS);
        try {
            FdPassing.Peer p = FdPassing.peer(c);
            if (p.pid() != pid) {
                throw new SyscallException("wake-fd request to " + at + " answered by pid " + p.pid(), Errno.EACCES);
            }
            FdPassing.send(c, fd, -1);
            FdPassing.Message m = FdPassing.receive(c);
            if (m == null) {
                throw new SyscallException("wake-fd request to " + at + " (no answer in " + TIMEOUT_MS + " ms)", Errno.EAGAIN);
            }
            if (m.word() != 0 || m.fd() < 0) {
                if (m.fd() >= 0) {
                    Linux.close(m.fd());
                }
                throw new SyscallException("wake-fd request for fd " + fd + " to " + at, m.word() != 0 ? m.word() : Errno.EPROTO);
            }
            return m.fd();
        } finally {
            Linux.close(c);
        }
    }
}
