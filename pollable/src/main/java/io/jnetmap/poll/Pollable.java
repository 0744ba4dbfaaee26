package io.jnetmap.poll;

/**
 * Something a thread can wait on: every port, and any plain descriptor ({@link #ofFd}). Readiness is
 * netmap's: {@link #IN} when some bound RX ring has {@code cur != tail} after an rxsync, {@link #OUT}
 * when some bound TX ring has {@code cur != tail} (room beyond {@code cur}).
 *
 * <p>A waiter (a {@code Poller}) follows this protocol, which keeps system calls off the path while
 * both sides are busy:
 * <ol>
 *   <li>{@code ready = pollNow(interest)}: netmap's poll() without sleeping: txsync of pending TX rings
 *       always, rxsync when IN is asked. Non-zero: done. Spinning strategies repeat this step.</li>
 *   <li>{@code ready = arm(interest)}: raise the need-wake-up flags in shared memory, so that producers
 *       start signalling {@link #fd()}, then look again (closing the race with a producer that
 *       published just before the flag was up). Non-zero: {@link #disarm()}, done.</li>
 *   <li>Block on {@link #fd()} for {@link #fdEvents(int) fdEvents(interest)} (epoll or poll).</li>
 *   <li>{@link #disarm()}: lower the flags and consume the wake-up; go to 1.</li>
 * </ol>
 * Producers signal only while the flag is up, so two busy sides exchange packets with no system call.
 * All methods except {@link #fd()} and {@link #fdEvents} must be called by the thread that owns the
 * port's rings (they sync them).
 */
public interface Pollable {
    /** Packets to receive (same value as POLLIN / EPOLLIN). */
    int IN = 0x001;
    /** Room to send (same value as POLLOUT / EPOLLOUT). */
    int OUT = 0x004;
    /** The port or descriptor failed (same value as POLLERR / EPOLLERR). */
    int ERR = 0x008;

    /** The descriptor that becomes ready when this pollable may have become ready. */
    int fd();

    /** The events to wait for on {@link #fd()} for {@code interest}; software ports always use {@link #IN}. */
    default int fdEvents(int interest) {
        return IN;
    }

    /** Does the implicit syncs and returns the subset of {@code interest} that is ready now (plus ERR). */
    int pollNow(int interest);

    /** Raises the need-wake-up flags for {@code interest}, then returns what {@link #pollNow} would. */
    int arm(int interest);

    /** Lowers the need-wake-up flags and consumes any pending wake-up on {@link #fd()}. */
    void disarm();

    /**
     * A plain descriptor: readiness is asked of the kernel with poll(2); arming is a no-op. The
     * descriptor stays owned by the caller.
     */
    static Pollable ofFd(int fd) {
        return new FdPollable(fd);
    }
}
