package io.jnetmap.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * An epoll instance with a preallocated event array. {@link #await(int)} allocates nothing.
 * One thread waits at a time; registration may come from any thread (the kernel serialises it).
 */
public final class Epoll implements AutoCloseable {
    private final int epfd;
    private final int capacity;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment events;
    /** Scratch for epoll_ctl; guarded by {@code this}. */
    private final MemorySegment ctl;
    private final AtomicBoolean closed = new AtomicBoolean();
    private int ready;

    public Epoll(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity=" + capacity + " (expected: > 0)");
        }
        this.capacity = capacity;
        this.events = arena.allocate(Linux.EPOLL_EVENT_SIZE * capacity, 8);
        this.ctl = arena.allocate(Linux.EPOLL_EVENT_SIZE, 8);
        this.epfd = Linux.epollCreate1(Linux.EPOLL_CLOEXEC);
    }

    public int fd() {
        return epfd;
    }

    /** Registers {@code fd} for {@code events} (EPOLLIN, EPOLLOUT, EPOLLET …); {@code data} comes back on readiness. */
    public synchronized void add(int fd, int events, long data) {
        ctl(Linux.EPOLL_CTL_ADD, fd, events, data);
    }

    public synchronized void modify(int fd, int events, long data) {
        ctl(Linux.EPOLL_CTL_MOD, fd, events, data);
    }

    public synchronized void remove(int fd) {
        Linux.epollCtl(epfd, Linux.EPOLL_CTL_DEL, fd, MemorySegment.NULL);
    }

    private void ctl(int op, int fd, int events, long data) {
        ctl.set(JAVA_INT_UNALIGNED, 0, events);
        ctl.set(JAVA_LONG_UNALIGNED, 4, data);
        Linux.epollCtl(epfd, op, fd, ctl);
    }

    /**
     * Waits up to {@code timeoutMs} (-1 = forever, 0 = just look). Returns the number of ready
     * descriptors, read them with {@link #events(int)} and {@link #data(int)}.
     */
    public int await(int timeoutMs) {
        ready = Linux.epollWait(epfd, events, capacity, timeoutMs);
        return ready;
    }

    /** Ready-event mask of the {@code i}-th result of the last {@link #await(int)}. */
    public int events(int i) {
        checkIndex(i);
        return events.get(JAVA_INT_UNALIGNED, i * Linux.EPOLL_EVENT_SIZE);
    }

    /** The {@code data} registered with the {@code i}-th ready descriptor. */
    public long data(int i) {
        checkIndex(i);
        return events.get(JAVA_LONG_UNALIGNED, i * Linux.EPOLL_EVENT_SIZE + 4);
    }

    private void checkIndex(int i) {
        if (i < 0 || i >= ready) {
            throw new IndexOutOfBoundsException("event " + i + " (expected: 0.." + (ready - 1) + ")");
        }
    }

    /** Idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            Linux.close(epfd);
            arena.close();
        }
    }
}
