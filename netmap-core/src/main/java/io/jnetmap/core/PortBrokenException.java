package io.jnetmap.core;

/**
 * A port stopped working because of something outside this process: the process at the other end of
 * the port died (a switch's host, a pipe's peer), or wrote something into shared memory that breaks the
 * rules. The message says who and what; the port's pollable reports {@code ERR}. Close the port (and
 * reopen it to reach a new peer or host).
 */
public class PortBrokenException extends NetmapException {
    private static final long serialVersionUID = 1L;

    public PortBrokenException(String message) {
        super(message);
    }

    public PortBrokenException(String message, Throwable cause) {
        super(message, cause);
    }
}
