package io.jnetmap.vale;

import io.jnetmap.core.NetmapException;
import io.jnetmap.core.Region;
import io.jnetmap.core.Ring;
import io.jnetmap.core.RingLayout;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Where a ring is and its constant geometry, as the switch's backend code needs it (a ring of a VALE
 * port has no user-side {@link Ring} object until the port is opened).
 */
record RingRef(Region region, long offset, int numSlots, int bufSize, int ringId) {
    static RingRef of(Ring r) {
        return new RingRef(r.region(), r.offset(), r.numSlots(), r.bufSize(), r.ringId());
    }

    /** The ring at {@code offset} of {@code region}, its constant fields checked. */
    static RingRef at(Region region, long offset) {
        var m = region.memory();
        int numSlots = m.get(JAVA_INT, offset + RingLayout.NUM_SLOTS_OFFSET);
        int bufSize = m.get(JAVA_INT, offset + RingLayout.BUF_SIZE_OFFSET);
        int ringId = m.get(JAVA_SHORT, offset + RingLayout.RING_ID_OFFSET);
        if (numSlots < 2 || numSlots > region.geometry().maxSlots() || bufSize != region.bufSize()) {
            throw new NetmapException.LayoutMismatch("ring at offset " + offset + " of region " + region.name()
                    + " has numSlots=" + numSlots + ", bufSize=" + bufSize);
        }
        return new RingRef(region, offset, numSlots, bufSize, ringId);
    }

    /** The ring's head as stored now, a plain read (the backend reads it only when the ring is set up). */
    int lpHead() {
        return region.memory().get(JAVA_INT, offset + RingLayout.HEAD_OFFSET);
    }

    /** The ring's tail as stored now, a plain read. */
    int lpTail() {
        return region.memory().get(JAVA_INT, offset + RingLayout.TAIL_OFFSET);
    }
}
