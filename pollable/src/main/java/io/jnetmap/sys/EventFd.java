package io.jnetmap.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A non-blocking eventfd: the wake-up line of a software port. {@link #signal()} is one write(2);
 * {@link #drain()} one read(2). Producers should call {@link #signal()} only when the consumer armed a
 * need-wake-up flag (see {@code io.jnetmap.poll.Pollable}); the call itself costs ~300 ns.
 */
public final class EventFd implements AutoCloseable {
    /**
     * The constant 1 that {@link #signal()} writes, shared by every eventfd: read-only, and never freed,
     * so a signal racing a close cannot find it gone (closing an eventfd frees nothing but the fd).
     */
    private static final MemorySegment ONE = Arena.global().allocateFrom(JAVA_LONG, 1L);
    /** Sink for {@link #drain()}; its value is never used, so concurrent drains of any eventfd may share it. */
    private static final MemorySegment SINK = Arena.global().allocate(JAVA_LONG);

    private final int fd;
    private final boolean owned;
    private final AtomicBoolean closed = new AtomicBoolean();

    private EventFd(int fd, boolean owned) {
        this.fd = fd;
        this.owned = owned;
    }

    /** A new non-blocking, close-on-exec eventfd with counter 0. */
    public static EventFd create() {
        return new EventFd(Linux.eventfd(0, Linux.EFD_NONBLOCK | Linux.EFD_CLOEXEC), true);
    }

    /** Wraps an eventfd received from elsewhere (e.g. another process); closing this closes {@code fd}. */
    public static EventFd adopt(int fd) {
        return new EventFd(fd, true);
    }

    public int fd() {
        return fd;
    }

    /** Adds 1 to the counter, making the fd readable. Never blocks (a saturated counter is already readable). */
    public void signal() {
        Linux.write(fd, ONE, 8);
    }

    /** Resets the counter to 0. Returns true if it was non-zero. */
    public boolean drain() {
        return Linux.read(fd, SINK, 8) == 8;
    }

    /** Idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            if (owned) {
                Linux.close(fd);
            }
        }
    }
}
