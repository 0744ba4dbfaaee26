package io.jnetmap.poll;

import io.jnetmap.sys.Linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/** An ordinary descriptor as a {@link Pollable}: poll(2) with a zero timeout answers readiness. */
final class FdPollable implements Pollable {
    private final int fd;
    /** One {@code struct pollfd}; used only by the owning thread. Freed by the GC with this object. */
    private final MemorySegment pollfd = Arena.ofAuto().allocate(Linux.POLLFD_SIZE, 8);

    FdPollable(int fd) {
        this.fd = fd;
        pollfd.set(JAVA_INT, 0, fd);
    }

    @Override
    public int fd() {
        return fd;
    }

    @Override
    public int fdEvents(int interest) {
        return interest & (IN | OUT);
    }

    @Override
    public int pollNow(int interest) {
        pollfd.set(JAVA_SHORT, 4, (short) (interest & (IN | OUT)));
        pollfd.set(JAVA_SHORT, 6, (short) 0);
        if (Linux.poll(pollfd, 1, 0) <= 0) {
            return 0;
        }
        int rev = pollfd.get(JAVA_SHORT, 6);
        int ready = rev & (IN | OUT);
        if ((rev & (Linux.POLLERR | Linux.POLLHUP | Linux.POLLNVAL)) != 0) {
            ready |= ERR;
        }
        return ready;
    }

    @Override
    public int arm(int interest) {
        return pollNow(interest);
    }

    @Override
    public void disarm() {
    }

    @Override
    public String toString() {
        return "fd " + fd;
    }
}
