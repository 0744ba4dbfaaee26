package io.jnetmap.vale.lookup;

import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * IPv4 longest-prefix match the DxR way (Zec, Rizzo, Mikuc: "DXR: towards a billion routing lookups
 * per second in software"): locate, don't search. The top 16 bits of the address index a direct
 * table; an entry either holds the next hop for the whole /16 chunk (most chunks) or points at the
 * chunk's few ranges, a sorted list of (start within the chunk, next hop) searched by bisection.
 *
 * <pre>
 *   direct[addr >>> 16]:  1nnnnnnn nnnnnnnn hhhhhhhh hhhhhhhh   next hop h for the whole chunk
 *                         0bbbbbbb bbbbbbbb bbbbcccc cccccccc   ranges[b .. b+c): (start16 << 16 | hop)
 *                                                               (c == 0xfff: count in bigCount[chunk])
 * </pre>
 *
 * A table is immutable once published: readers (forwarding threads) never lock. {@link Builder}
 * keeps the routes and makes new tables: on a change it rebuilds only the chunks the changed prefixes
 * cover and appends their ranges after the old ones (a reader of the old table never looks there),
 * copying the direct table; it rebuilds everything when the garbage outgrows the live ranges.
 * Next hop 0 means "no route"; next hops are 1..65535.
 */
final class DxrTable {
    static final int CHUNKS = 1 << 16;
    static final int MAX_HOP = 0xffff;
    private static final int DIRECT = 0x80000000;
    private static final int BIG = 0xfff;
    private static final int MAX_RANGES = 1 << 19;

    private final int[] direct;
    private final int[] ranges;
    private final int[] bigCount;
    /** Ranges in use (live and garbage). */
    private final int used;
    private final int live;

    private DxrTable(int[] direct, int[] ranges, int[] bigCount, int used, int live) {
        this.direct = direct;
        this.ranges = ranges;
        this.bigCount = bigCount;
        this.used = used;
        this.live = live;
    }

    /** The next hop for {@code addr}, 0 if no route covers it. */
    int lookup(int addr) {
        int e = direct[addr >>> 16];
        if (e < 0) {
            return e & MAX_HOP;
        }
        int lo = e >>> 12;
        int n = e & BIG;
        if (n == BIG) {
            n = bigCount[addr >>> 16];
        }
        int key = addr & 0xffff;
        int hi = lo + n - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if ((ranges[mid] >>> 16) <= key) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return ranges[lo] & MAX_HOP;
    }

    /** Chunks resolved by the direct table alone. */
    int directChunks() {
        int n = 0;
        for (int e : direct) {
            if (e < 0) {
                n++;
            }
        }
        return n;
    }

    int liveRanges() {
        return live;
    }

    /**
     * The routes (prefix, length, next hop) and the tables made from them. Not thread-safe: the
     * router serialises changes; tables it returns are safe to publish.
     */
    static final class Builder {
        /** Every route by {@link #key}. */
        private final Map<Long, Integer> routes = new HashMap<>();
        /** Routes longer than /16 by {@link #key}, ordered by prefix then length. */
        private final NavigableMap<Long, Integer> specifics = new TreeMap<>();
        private final BitSet dirty = new BitSet(CHUNKS);
        private DxrTable table = new DxrTable(filledDirect(), new int[1024], null, 0, 0);

        private static int[] filledDirect() {
            int[] d = new int[CHUNKS];
            Arrays.fill(d, DIRECT);
            return d;
        }

        static long key(int prefix, int len) {
            return (Integer.toUnsignedLong(prefix) << 6) | len;
        }

        static int mask(int len) {
            return len == 0 ? 0 : -1 << (32 - len);
        }

        static void check(int len, int hop) {
            if (len < 0 || len > 32) {
                throw new IllegalArgumentException("prefix length=" + len + " (expected: 0..32)");
            }
            if (hop < 1 || hop > MAX_HOP) {
                throw new IllegalArgumentException("next hop=" + hop + " (expected: 1.." + MAX_HOP + ")");
            }
        }

        /** Adds or replaces route {@code prefix/len} (host bits are ignored). */
        void add(int prefix, int len, int hop) {
            check(len, hop);
            prefix &= mask(len);
            long k = key(prefix, len);
            routes.put(k, hop);
            if (len > 16) {
                specifics.put(k, hop);
            }
            markDirty(prefix, len);
        }

        /** Removes route {@code prefix/len}; false if there was none. */
        boolean remove(int prefix, int len) {
            prefix &= mask(len);
            long k = key(prefix, len);
            if (routes.remove(k) == null) {
                return false;
            }
            specifics.remove(k);
            markDirty(prefix, len);
            return true;
        }

        /** The next hop of exactly {@code prefix/len}, or 0. */
        int get(int prefix, int len) {
            Integer h = routes.get(key(prefix & mask(len), len));
            return h == null ? 0 : h;
        }

        int size() {
            return routes.size();
        }

        /** Every route: {@link #key} (prefix and length) to next hop. */
        Map<Long, Integer> routes() {
            return java.util.Collections.unmodifiableMap(routes);
        }

        private void markDirty(int prefix, int len) {
            int first = prefix >>> 16;
            int chunks = len >= 16 ? 1 : 1 << (16 - len);
            dirty.set(first, first + chunks);
        }

        /** A table with every change so far (the previous table if nothing changed). */
        DxrTable build() {
            if (dirty.isEmpty()) {
                return table;
            }
            DxrTable t = table;
            int dirtyChunks = dirty.cardinality();
            int garbage = t.used - t.live;
            if (dirtyChunks > CHUNKS / 8 || garbage > t.live + CHUNKS) {
                table = rebuild();
            } else {
                table = update(t);
            }
            dirty.clear();
            return table;
        }

        private DxrTable rebuild() {
            int[] direct = new int[CHUNKS];
            Ranges out = new Ranges(new int[Math.max(1024, table.live + table.live / 4)], 0);
            int[] big = null;
            for (int c = 0; c < CHUNKS; c++) {
                big = chunk(c, direct, out, big);
            }
            return new DxrTable(direct, out.a, big, out.n, out.n);
        }

        private DxrTable update(DxrTable t) {
            int[] direct = t.direct.clone();
            Ranges out = new Ranges(t.ranges, t.used);
            int[] big = t.bigCount == null ? null : t.bigCount.clone();
            int live = t.live;
            for (int c = dirty.nextSetBit(0); c >= 0; c = dirty.nextSetBit(c + 1)) {
                live -= count(t, c);
            }
            int before = out.n;
            for (int c = dirty.nextSetBit(0); c >= 0; c = dirty.nextSetBit(c + 1)) {
                big = chunk(c, direct, out, big);
            }
            return new DxrTable(direct, out.a, big, out.n, live + out.n - before);
        }

        private static int count(DxrTable t, int c) {
            int e = t.direct[c];
            if (e < 0) {
                return 0;
            }
            int n = e & BIG;
            return n == BIG ? t.bigCount[c] : n;
        }

        /** Appendable range list; grows by copying (readers of older tables keep their array). */
        private static final class Ranges {
            int[] a;
            int n;

            Ranges(int[] a, int n) {
                this.a = a;
                this.n = n;
            }

            void add(int v) {
                if (n == a.length) {
                    a = Arrays.copyOf(a, a.length * 2);
                }
                a[n++] = v;
            }
        }

        // scratch for one chunk
        private final int[] starts = new int[CHUNKS + 1];
        private final int[] hops = new int[CHUNKS + 1];
        private final long[] stackEnd = new long[34];
        private final int[] stackHop = new int[34];

        /** Computes chunk {@code c}'s intervals and stores them in {@code direct[c]} (and {@code out}). */
        private int[] chunk(int c, int[] direct, Ranges out, int[] big) {
            long lo = (long) c << 16;
            long hi = lo + 0xffff;
            int base = 0;
            for (int len = 16; len >= 0; len--) {
                Integer h = routes.get(key((int) lo & mask(len), len));
                if (h != null) {
                    base = h;
                    break;
                }
            }
            int n = 0;
            int sp = 0;
            stackEnd[0] = hi;
            stackHop[0] = base;
            long cur = lo;
            for (Map.Entry<Long, Integer> e : specifics.subMap(lo << 6, true, (hi << 6) | 63, true).entrySet()) {
                long start = e.getKey() >>> 6;
                int len = (int) (e.getKey() & 63);
                long end = start + (1L << (32 - len)) - 1;
                while (stackEnd[sp] < start) {
                    if (cur <= stackEnd[sp]) {
                        n = emit(n, (int) (cur - lo), stackHop[sp]);
                        cur = stackEnd[sp] + 1;
                    }
                    sp--;
                }
                if (cur < start) {
                    n = emit(n, (int) (cur - lo), stackHop[sp]);
                    cur = start;
                }
                sp++;
                stackEnd[sp] = end;
                stackHop[sp] = e.getValue();
            }
            for (; sp >= 0; sp--) {
                if (cur <= stackEnd[sp]) {
                    n = emit(n, (int) (cur - lo), stackHop[sp]);
                    cur = stackEnd[sp] + 1;
                }
            }
            if (n == 1) {
                direct[c] = DIRECT | hops[0];
                return big;
            }
            int at = out.n;
            if (at + n > MAX_RANGES) {
                throw new IllegalStateException("routing table needs more than " + MAX_RANGES + " ranges");
            }
            for (int i = 0; i < n; i++) {
                out.add(starts[i] << 16 | hops[i]);
            }
            if (n >= BIG) {
                if (big == null) {
                    big = new int[CHUNKS];
                }
                big[c] = n;
                direct[c] = at << 12 | BIG;
            } else {
                direct[c] = at << 12 | n;
            }
            return big;
        }

        /**
         * Appends interval (start, hop), merging it into the previous one if the hop is the same
         * (starts only grow: the sweep emits each interval once, at its first address).
         */
        private int emit(int n, int start, int hop) {
            if (n > 0 && hops[n - 1] == hop) {
                return n;
            }
            starts[n] = start;
            hops[n] = hop;
            return n + 1;
        }
    }
}
