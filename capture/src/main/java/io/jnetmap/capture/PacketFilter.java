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

    /** The reference interpreter of {@code program}. */
    static PacketFilter interpreter(Bpf program) {
        return new BpfInterpreter(program);
    }

    /** {@code program} compiled to JVM bytecode: one hidden class. */
    static PacketFilter bytecode(Bpf program) {
        return BpfBytecode.compile(program);
    }
}
