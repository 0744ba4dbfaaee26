package io.jnetmap.sys;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Moves the calling thread into a named network namespace ({@code /run/netns/NAME}, as made by
 * {@code ip netns add}) and back on {@link #close()}. Sockets, TAP devices and XDP attachments made
 * meanwhile belong to that namespace and stay there; the thread's other work is unaffected, so one JVM
 * can own ports in several namespaces (tests and benchmarks do this). Needs CAP_SYS_ADMIN.
 *
 * <pre>{@code
 * try (NetNamespace ns = NetNamespace.enter("jnA")) { port = Netmap.open("netmap:veth0"); }
 * }</pre>
 */
public final class NetNamespace implements AutoCloseable {
    public static final int CLONE_NEWNET = 0x40000000;
    private static final String RUN_NETNS = "/run/netns/";

    private final String name;
    private final int previous;
    private boolean closed;

    private NetNamespace(String name, int previous) {
        this.name = name;
        this.previous = previous;
    }

    /** True if {@code ip netns} knows namespace {@code name}. */
    public static boolean exists(String name) {
        return Files.exists(Path.of(RUN_NETNS + name));
    }

    /** Enters namespace {@code name}; {@link #close()} returns the thread to where it was. */
    public static NetNamespace enter(String name) {
        if (name.isEmpty() || name.contains("/")) {
            throw new IllegalArgumentException("namespace=" + name + " (expected: a name listed by ip netns)");
        }
        int previous = Linux.open("/proc/thread-self/ns/net", Linux.O_RDONLY | Linux.O_CLOEXEC, 0);
        try {
            int target = Linux.open(RUN_NETNS + name, Linux.O_RDONLY | Linux.O_CLOEXEC, 0);
            try {
                Linux.setns(target, CLONE_NEWNET);
            } finally {
                Linux.close(target);
            }
        } catch (RuntimeException e) {
            Linux.close(previous);
            throw e;
        }
        return new NetNamespace(name, previous);
    }

    /** The namespace of the calling thread, as {@code net:[INODE]}: equal strings mean the same namespace. */
    public static String current() {
        try {
            return Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString();
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot read /proc/thread-self/ns/net: " + e, e);
        }
    }

    public String name() {
        return name;
    }

    /** Returns the thread to the namespace it was in before {@link #enter}. Idempotent; same thread only. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            Linux.setns(previous, CLONE_NEWNET);
        } finally {
            Linux.close(previous);
        }
    }
}
