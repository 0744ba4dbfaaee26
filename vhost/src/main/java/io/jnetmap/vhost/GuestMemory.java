package io.jnetmap.vhost;

import io.jnetmap.sys.Linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The guest's memory as the front-end's {@code SET_MEM_TABLE} describes it: up to 8 regions, each a
 * descriptor received by {@code SCM_RIGHTS} and mapped here (shared, read-write) with FFM. Addresses
 * come in two spaces: guest-physical (descriptors) and the front-end's virtual addresses (ring
 * addresses of {@code SET_VRING_ADDR}). Every translation checks that {@code [addr, addr + len)} lies
 * inside one region; nothing outside the table is ever reached.
 *
 * <pre>
 * VhostUserMemory       { u32 nregions; u32 padding; VhostUserMemoryRegion regions[nregions] }
 * VhostUserMemoryRegion { u64 guest_phys_addr; u64 memory_size; u64 userspace_addr; u64 mmap_offset }   32 B
 * </pre>
 */
final class GuestMemory implements AutoCloseable {
    static final int MAX_REGIONS = 8;

    private final Arena arena = Arena.ofShared();
    private final int count;
    private final long[] gpa = new long[MAX_REGIONS];
    private final long[] uva = new long[MAX_REGIONS];
    private final long[] size = new long[MAX_REGIONS];
    private final MemorySegment[] seg = new MemorySegment[MAX_REGIONS];
    private final long total;

    /**
     * Maps the regions of a {@code SET_MEM_TABLE} payload at {@code payload}; takes ownership of
     * {@code fds[0..n)} (closed here, mapped or not).
     */
    GuestMemory(MemorySegment payload, int payloadSize, int[] fds, int nfds) {
        try {
            if (payloadSize < 8) {
                throw new VhostProtocolException("SET_MEM_TABLE payload of " + payloadSize + " bytes (expected: >= 8)");
            }
            int n = payload.get(java.lang.foreign.ValueLayout.JAVA_INT, 0);
            if (n < 1 || n > MAX_REGIONS || payloadSize < 8 + 32 * n) {
                throw new VhostProtocolException("SET_MEM_TABLE nregions=" + n + " in " + payloadSize
                        + " bytes (expected: 1.." + MAX_REGIONS + " regions of 32 bytes)");
            }
            if (nfds != n) {
                throw new VhostProtocolException("SET_MEM_TABLE with " + n + " regions but " + nfds + " descriptors");
            }
            long sum = 0;
            for (int i = 0; i < n; i++) {
                long base = 8 + 32L * i;
                long g = payload.get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, base);
                long s = payload.get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, base + 8);
                long u = payload.get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, base + 16);
                long off = payload.get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, base + 24);
                if (s <= 0 || off < 0 || off + s < 0 || Long.compareUnsigned(g, -s) > 0 || Long.compareUnsigned(u, -s) > 0 || (off & 4095) != 0) {
                    throw new VhostProtocolException("SET_MEM_TABLE region " + i + ": size=0x" + Long.toHexString(s)
                            + ", mmap_offset=0x" + Long.toHexString(off) + " (expected: size > 0, page-aligned offset, no wrap)");
                }
                MemorySegment all = Linux.mmap(off + s, Linux.PROT_READ | Linux.PROT_WRITE, Linux.MAP_SHARED, fds[i], 0, arena);
                gpa[i] = g;
                uva[i] = u;
                size[i] = s;
                seg[i] = all.asSlice(off, s);
                sum += s;
            }
            this.count = n;
            this.total = sum;
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        } finally {
            for (int i = 0; i < nfds; i++) {
                Linux.close(fds[i]);
            }
        }
    }

    int regions() {
        return count;
    }

    long bytes() {
        return total;
    }

    MemorySegment segment(int region) {
        return seg[region];
    }

    /** The region holding guest-physical {@code [addr, addr + len)} entirely, or -1. */
    int regionOfGpa(long addr, long len) {
        for (int i = 0; i < count; i++) {
            long off = addr - gpa[i];
            if (Long.compareUnsigned(off, size[i]) < 0 && Long.compareUnsigned(len, size[i] - off) <= 0) {
                return i;
            }
        }
        return -1;
    }

    /** Offset of guest-physical {@code addr} inside {@link #segment(int) segment(region)}. */
    long offsetOfGpa(int region, long addr) {
        return addr - gpa[region];
    }

    /** The region holding front-end virtual {@code [addr, addr + len)} entirely, or -1. */
    int regionOfUva(long addr, long len) {
        for (int i = 0; i < count; i++) {
            long off = addr - uva[i];
            if (Long.compareUnsigned(off, size[i]) < 0 && Long.compareUnsigned(len, size[i] - off) <= 0) {
                return i;
            }
        }
        return -1;
    }

    long offsetOfUva(int region, long addr) {
        return addr - uva[region];
    }

    /** Unmaps every region (waits for no access: the port's device lock keeps the datapath out). */
    @Override
    public void close() {
        arena.close();
    }
}
