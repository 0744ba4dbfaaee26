package io.jnetmap.vale.lookup;

import io.jnetmap.vale.Frames;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The router's incremental checksum update gives the checksum a full recomputation gives, for any header. */
class ChecksumProperties {
    @Property(tries = 2000)
    void ttlDecrementKeepsTheChecksumRight(@ForAll @IntRange(min = 5, max = 15) int ihl,
                                           @ForAll @IntRange(min = 2, max = 255) int ttl, @ForAll long seed) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(64);
            Random rnd = new Random(seed);
            for (int i = 0; i < ihl * 4; i++) {
                m.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt());
            }
            m.set(ValueLayout.JAVA_BYTE, 0, (byte) (0x40 | ihl));
            m.set(ValueLayout.JAVA_BYTE, 8, (byte) ttl);
            m.set(Frames.U16, 10, (short) 0);
            m.set(Frames.U16, 10, (short) Frames.checksum(m, 0, ihl * 4));
            int proto = m.get(ValueLayout.JAVA_BYTE, 9);

            m.set(Frames.U32, 8, L3Router.decrementTtl(m.get(Frames.U32, 8)));

            assertEquals(ttl - 1, m.get(ValueLayout.JAVA_BYTE, 8) & 0xff);
            assertEquals(proto, m.get(ValueLayout.JAVA_BYTE, 9));
            int incremental = m.get(Frames.U16, 10) & 0xffff;
            m.set(Frames.U16, 10, (short) 0);
            assertEquals(Frames.checksum(m, 0, ihl * 4), incremental);
        }
    }
}
