package io.jnetmap.sys;

/**
 * A system call failed. Carries the call (with its salient arguments) and the errno, and says both in
 * its message: {@code bind(fd=7, ifindex=3) failed: EBUSY (Device or resource busy)}.
 *
 * <p>EAGAIN is never reported this way: calls that may legitimately find nothing to do return
 * {@link Linux#AGAIN} instead.
 */
public class SyscallException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;

    public SyscallException(String call, int errno) {
        super(call + " failed: " + Errno.name(errno) + " (" + Errno.describe(errno) + ")");
        this.call = call;
        this.errno = errno;
    }

    /** The call that failed, e.g. {@code "bind(fd=7)"}. */
    public String call() {
        return call;
    }

    /** The errno value the call left, e.g. {@link Errno#EBUSY}. */
    public int errno() {
        return errno;
    }

    /** The symbolic errno name, e.g. {@code "EBUSY"}. */
    public String errnoName() {
        return Errno.name(errno);
    }
}
