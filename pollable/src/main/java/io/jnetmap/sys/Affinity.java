package io.jnetmap.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.BitSet;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/** CPU pinning of the calling thread (OpenOnload's advice for a spinning thread). */
public final class Affinity {
    /** Size of glibc's {@code cpu_set_t}: 1024 CPUs. */
    private static final int CPU_SET_BYTES = 128;

    private Affinity() {
    }

    /** Pins the calling thread to {@code cpu}. */
    public static void pinCurrentThread(int cpu) {
        if (cpu < 0 || cpu >= CPU_SET_BYTES * 8) {
            throw new IllegalArgumentException("cpu=" + cpu + " (expected: 0.." + (CPU_SET_BYTES * 8 - 1) + ")");
        }
        BitSet set = new BitSet();
        set.set(cpu);
        setCurrentThread(set);
    }

    /** Restricts the calling thread to the CPUs in {@code cpus}. */
    public static void setCurrentThread(BitSet cpus) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment mask = a.allocate(CPU_SET_BYTES);
            byte[] bytes = cpus.toByteArray();
            if (bytes.length > CPU_SET_BYTES) {
                throw new IllegalArgumentException("cpus=" + cpus + " (expected: CPUs below " + CPU_SET_BYTES * 8 + ")");
            }
            MemorySegment.copy(bytes, 0, mask, JAVA_BYTE, 0, bytes.length);
            Linux.schedSetaffinity(0, mask);
        }
    }

    /** The CPUs the calling thread may run on. */
    public static BitSet currentThread() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment mask = a.allocate(CPU_SET_BYTES);
            Linux.schedGetaffinity(0, mask);
            return BitSet.valueOf(mask.toArray(JAVA_BYTE));
        }
    }
}
