package io.jnetmap.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/** BPF_LINK_UPDATE: swaps the program behind a bpf link in one step (an XDP filter replaced while sockets stay bound). */
public final class BpfLink {
    public static final int BPF_LINK_UPDATE = 29;
    private static final int ATTR_SIZE = 144;

    private BpfLink() {
    }

    /** Replaces the program of link {@code linkFd} by {@code newProgFd}. */
    public static void update(int linkFd, int newProgFd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = a.allocate(ATTR_SIZE, 8);
            attr.set(JAVA_INT, 0, linkFd);
            attr.set(JAVA_INT, 4, newProgFd);
            try {
                Linux.bpf(BPF_LINK_UPDATE, attr, ATTR_SIZE);
            } catch (SyscallException e) {
                throw new SyscallException("bpf(BPF_LINK_UPDATE(link=" + linkFd + ", prog=" + newProgFd + "))", e.errno());
            }
        }
    }
}
