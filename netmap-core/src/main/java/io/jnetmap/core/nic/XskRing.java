package io.jnetmap.core.nic;

import io.jnetmap.sys.Xdp;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One of the four single-producer single-consumer rings an AF_XDP socket shares with the kernel
 * (fill, completion, RX, TX), mapped from the socket. Producer and consumer are free-running u32
 * positions; entry {@code pos} is at {@code desc + (pos & mask) * entrySize}. Where the words live is
 * the kernel's business ({@link Xdp#XDP_MMAP_OFFSETS}, read once per socket).
 *
 * <p>Memory order: the side that produces stores its position with release after writing entries; the
 * other side loads it with acquire before reading them (the kernel uses the same pairing).
 */
final class XskRing {
    private static final VarHandle INT = JAVA_INT.varHandle();

    final MemorySegment mem;
    final int size;
    final int mask;
    private final long producer;
    private final long consumer;
    private final long flags;
    private final long desc;
    private final int entrySize;

    /**
     * @param mem     the mapped ring
     * @param offsets {@code struct xdp_mmap_offsets} as read from the socket
     * @param which   byte offset of this ring's {@code xdp_ring_offset} in {@code offsets}
     */
    XskRing(MemorySegment mem, MemorySegment offsets, long which, int size, int entrySize) {
        this.mem = mem;
        this.size = size;
        this.mask = size - 1;
        this.producer = offsets.get(JAVA_LONG, which);
        this.consumer = offsets.get(JAVA_LONG, which + 8);
        this.desc = offsets.get(JAVA_LONG, which + 16);
        this.flags = offsets.get(JAVA_LONG, which + 24);
        this.entrySize = entrySize;
        long end = desc + (long) size * entrySize;
        if (end > mem.byteSize() || producer + 4 > mem.byteSize() || consumer + 4 > mem.byteSize()
                || flags + 4 > mem.byteSize()) {
            throw new IllegalStateException("AF_XDP ring offsets outside the mapping: " + this);
        }
    }

    /** Bytes to map for a ring of {@code size} entries given its descriptor offset. */
    static long mapLength(MemorySegment offsets, long which, int size, int entrySize) {
        return offsets.get(JAVA_LONG, which + 16) + (long) size * entrySize;
    }

    int producer() {
        return (int) INT.getAcquire(mem, producer);
    }

    int consumer() {
        return (int) INT.getAcquire(mem, consumer);
    }

    void setProducer(int pos) {
        // ordered store -> entries written before are visible to the kernel when it sees the position
        INT.setRelease(mem, producer, pos);
    }

    void setConsumer(int pos) {
        // ordered store -> the kernel may reuse entries only after we are done reading them
        INT.setRelease(mem, consumer, pos);
    }

    /** True if the kernel asks for a system call to make progress on this ring. */
    boolean needWakeup() {
        return ((int) INT.getVolatile(mem, flags) & Xdp.XDP_RING_NEED_WAKEUP) != 0;
    }

    /** Offset in {@link #mem} of entry {@code pos}. */
    long entry(int pos) {
        return desc + (long) (pos & mask) * entrySize;
    }

    @Override
    public String toString() {
        return "XskRing[size=" + size + ", producer@" + producer + ", consumer@" + consumer + ", desc@" + desc
                + ", flags@" + flags + ", mapped=" + mem.byteSize() + "]";
    }
}
