package io.jnetmap.core;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Second JVM of {@link SharedRegionCrossProcessTest}: attaches to the region, finds the port
 * descriptor by name, checks what the first JVM wrote into its TX ring, and answers by writing into
 * its RX ring. Exit code 0 = all checks passed.
 */
public final class SharedRegionChild {
    private SharedRegionChild() {
    }

    public static void main(String[] args) {
        String regionName = args[0];
        int packets = Integer.parseInt(args[1]);
        try (Region region = Region.openShared(regionName)) {
            NetmapIf nifp = region.findIf("xproc").orElseThrow(() -> new AssertionError("no descriptor xproc"));
            Ring tx = new Ring(region, nifp.txRingOffset(0));
            Ring rx = new Ring(region, nifp.rxRingOffset(0));
            if (tx.head() != packets) {
                fail("tx head " + tx.head() + " (expected " + packets + ")");
            }
            MemorySegment m = region.memory();
            for (int i = 0; i < packets; i++) {
                if (tx.len(i) != 64 || m.get(JAVA_LONG, tx.bufOffset(i)) != 1000L + i) {
                    fail("slot " + i + ": len " + tx.len(i) + ", seq " + m.get(JAVA_LONG, tx.bufOffset(i)));
                }
            }
            for (int i = 0; i < packets; i++) {
                m.set(JAVA_LONG, rx.bufOffset(i), 2000L + i);
                rx.setLen(i, 32);
            }
            m.set(JAVA_INT, nifp.offset() + NetmapIfLayout.STATE_OFFSET, region.liveUsers());
            nifp.setState(region.liveUsers());
        } catch (Throwable t) {
            t.printStackTrace();
            System.exit(3);
        }
        System.exit(0);
    }

    private static void fail(String what) {
        System.err.println("child: " + what);
        System.exit(2);
    }
}
