package io.jnetmap.capture;

import java.lang.foreign.MemorySegment;

/**
 * A compiled filter run in the JVM. {@link #run} returns what the BPF program returns: 0 drops the packet,
 * anything else keeps that many bytes of it. Instances are not thread-safe (scratch memory); one per thread.
 */
public interface PacketFilter {
    /** Runs the filter on {@code caplen} bytes at {@code off} of a packet {@code wirelen} bytes long on the wire. */
    int run(MemorySegment packet, long off, int caplen, int wirelen);

    /** Whether the packet passes. */
    default boolean matches(MemorySegment packet, long off, int caplen, int wirelen) {
        return run(packet, off, caplen, wirelen) != 0;
    }

    /** The program this filter runs. */
    Bpf program();

    /** The reference interpreter of {@code program}; refused if it reads kernel metadata ({@link #checkRunnable}). */
    static PacketFilter interpreter(Bpf program) {
        checkRunnable(program);
        return new BpfInterpreter(program);
    }

    /** {@code program} compiled to JVM bytecode: one hidden class; refused as {@link #interpreter} is. */
    static PacketFilter bytecode(Bpf program) {
        checkRunnable(program);
        return BpfBytecode.compile(program);
    }

    /**
     * Refuses a program that reads ancillary data ({@code inbound}, {@code outbound}: the packet's
     * direction), which only the kernel's filter of a live AF_PACKET capture has: in the JVM it would
     * silently reject every packet.
     *
     * @throws UnsupportedOperationException saying so
     */
    static void checkRunnable(Bpf program) {
        if (program.readsAncillary()) {
            throw new UnsupportedOperationException("inbound/outbound not supported here: they read the packet's direction,"
                    + " which only the kernel filter of a live AF_PACKET capture (capture -i netmap:IF) has, not files or"
                    + " filters run in the JVM");
        }
    }
}
