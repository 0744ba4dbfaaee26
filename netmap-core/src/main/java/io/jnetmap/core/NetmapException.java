package io.jnetmap.core;

/**
 * Base of jnetmap's own failures. Expected conditions (ring full, no packet, back-pressure) are never
 * exceptions; failed system calls are {@link io.jnetmap.sys.SyscallException}s, usually as the cause
 * of one of these.
 */
public class NetmapException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public NetmapException(String message) {
        super(message);
    }

    public NetmapException(String message, Throwable cause) {
        super(message, cause);
    }

    /** No module serves this kind of port (e.g. {@code vale-switch} is not on the class path). */
    public static final class UnknownPortKind extends NetmapException {
        private static final long serialVersionUID = 1L;

        public UnknownPortKind(String message) {
            super(message);
        }
    }

    /** The named network interface does not exist. */
    public static final class NoSuchInterface extends NetmapException {
        private static final long serialVersionUID = 1L;

        public NoSuchInterface(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The process lacks a privilege the port needs (CAP_NET_RAW, CAP_NET_ADMIN, CAP_BPF …). */
    public static final class PermissionDenied extends NetmapException {
        private static final long serialVersionUID = 1L;

        public PermissionDenied(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The port (or its interface, queue, pipe end) is already in use. */
    public static final class PortBusy extends NetmapException {
        private static final long serialVersionUID = 1L;

        public PortBusy(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** A region, file or peer does not have the layout this version understands. */
    public static final class LayoutMismatch extends NetmapException {
        private static final long serialVersionUID = 1L;

        public LayoutMismatch(String message) {
            super(message);
        }
    }

    /** The region has no free interface descriptors, rings or buffers left for this request. */
    public static final class OutOfMemory extends NetmapException {
        private static final long serialVersionUID = 1L;

        public OutOfMemory(String message) {
            super(message);
        }
    }

    /** The port was used after {@code close()}. */
    public static final class Closed extends NetmapException {
        private static final long serialVersionUID = 1L;

        public Closed(String message) {
            super(message);
        }
    }
}
