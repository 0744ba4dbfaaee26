package io.jnetmap.poll;

import io.jnetmap.sys.Epoll;
import io.jnetmap.sys.Linux;
import io.jnetmap.sys.SyscallException;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Learns within microseconds that another process died, at no cost while it lives: one pidfd
 * ({@code pidfd_open(2)}, readable when the process exits) per watched process, in one epoll set that
 * one daemon thread of this process sleeps on. No timer, no polling: the thread runs only when a
 * watched process exits, and then runs the actions registered for it, once each.
 *
 * <p>Every cross-process relation of jnetmap (pipe ends, a switch's host and its remote ports, the
 * control mailbox) registers here; an action must be short and must not block (mark something broken,
 * signal an eventfd so that a sleeping {@link Poller} wakes up, unpark a thread).
 *
 * <p>A pid that is already gone when watched fires at once, on the calling thread. A pid reused by a new
 * process between the death of the old one and {@link #onExit} cannot be told apart: callers watch
 * a peer as soon as they learn its pid.
 */
public final class ProcessWatch {
    private static final Object LOCK = new Object();
    /** Registered watches by id (the epoll data word). Guarded by LOCK. */
    private static final Map<Long, Watch> WATCHES = new HashMap<>();
    private static Epoll epoll;
    private static long nextId = 1;

    private ProcessWatch() {
    }

    /** One registration: {@link #close()} cancels it (idempotent; no effect once it fired). */
    public static final class Watch implements AutoCloseable {
        private final long id;
        private final int pid;
        private final int pidfd;
        private final Runnable action;
        private final AtomicBoolean done = new AtomicBoolean();
        private volatile long diedAtNanos;

        private Watch(long id, int pid, int pidfd, Runnable action) {
            this.id = id;
            this.pid = pid;
            this.pidfd = pidfd;
            this.action = action;
        }

        /** The watched process. */
        public int pid() {
            return pid;
        }

        /** True once the process was seen dead (and the action ran, or is running). */
        public boolean fired() {
            return diedAtNanos != 0;
        }

        /** {@link System#nanoTime()} when the death was seen, 0 while the process lives. */
        public long diedAtNanos() {
            return diedAtNanos;
        }

        private void fire() {
            diedAtNanos = System.nanoTime();
            if (done.compareAndSet(false, true)) {
                release();
                try {
                    action.run();
                } catch (RuntimeException | Error e) {
                    // an action's failure must not stop the watch of every other process
                    System.err.println("jnetmap: action on the death of process " + pid + " failed: " + e);
                }
            }
        }

        private void release() {
            if (pidfd < 0) {
                return;
            }
            synchronized (LOCK) {
                WATCHES.remove(id);
                if (pidfd >= 0) {
                    try {
                        epoll.remove(pidfd);
                    } catch (SyscallException ignored) {
                        // not registered any more
                    }
                    Linux.close(pidfd);
                }
            }
        }

        @Override
        public void close() {
            if (done.compareAndSet(false, true)) {
                release();
            }
        }

        @Override
        public String toString() {
            return "watch of process " + pid + (fired() ? " (died)" : "");
        }
    }

    /**
     * Runs {@code action} on the watch thread once process {@code pid} has exited (at once, on the
     * calling thread, if it is already gone). Watching this process itself is refused.
     */
    public static Watch onExit(int pid, Runnable action) {
        if (pid <= 0 || pid == Linux.getpid()) {
            throw new IllegalArgumentException("pid=" + pid + " (expected: another process)");
        }
        int pidfd;
        try {
            pidfd = Linux.pidfdOpen(pid);
        } catch (SyscallException e) {
            // ESRCH: already gone (EMFILE and the like: treated alike, the relation is not kept blind)
            Watch w = new Watch(0, pid, -1, action);
            w.fire();
            return w;
        }
        synchronized (LOCK) {
            if (epoll == null) {
                epoll = new Epoll(64);
                Thread.ofPlatform().daemon().name("jnetmap-process-watch").start(ProcessWatch::run);
            }
            Watch w = new Watch(nextId++, pid, pidfd, action);
            WATCHES.put(w.id, w);
            epoll.add(pidfd, Pollable.IN, w.id);
            return w;
        }
    }

    /** Number of processes watched now (for tests and {@code info}). */
    public static int watched() {
        synchronized (LOCK) {
            return WATCHES.size();
        }
    }

    private static void run() {
        Epoll e;
        synchronized (LOCK) {
            e = epoll;
        }
        while (true) {
            int n = e.await(-1);
            for (int i = 0; i < n; i++) {
                Watch w;
                synchronized (LOCK) {
                    w = WATCHES.get(e.data(i));
                }
                if (w != null) {
                    w.fire();
                }
            }
        }
    }
}
