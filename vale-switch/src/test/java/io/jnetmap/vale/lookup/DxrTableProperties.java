package io.jnetmap.vale.lookup;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The DxR table answers exactly what a naive longest-prefix match over the same routes answers, for
 * random route sets and addresses, after building from scratch and after incremental changes.
 */
class DxrTableProperties {
    record Route(int prefix, int len, int hop) {
    }

    /** Naive LPM: scan every route, keep the longest that matches. */
    static int naive(Map<Long, Route> routes, int addr) {
        int best = -1;
        int hop = 0;
        for (Route r : routes.values()) {
            int mask = DxrTable.Builder.mask(r.len());
            if ((addr & mask) == (r.prefix() & mask) && r.len() > best) {
                best = r.len();
                hop = r.hop();
            }
        }
        return hop;
    }

    @Provide
    Arbitrary<Route> routes() {
        // lengths around real tables (8..32) plus the short ones that cover many chunks
        Arbitrary<Integer> len = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(0, 7)),
                net.jqwik.api.Tuple.of(6, Arbitraries.integers().between(8, 24)),
                net.jqwik.api.Tuple.of(3, Arbitraries.integers().between(25, 32)));
        // prefixes clustered in a few /12s so that routes nest and overlap
        Arbitrary<Integer> prefix = Combinators.combine(Arbitraries.integers().between(0, 3), Arbitraries.integers())
                .as((cluster, bits) -> (0x0a000000 + (cluster << 20)) ^ (bits & 0x000fffff) ^ (cluster == 3 ? bits : 0));
        return Combinators.combine(prefix, len, Arbitraries.integers().between(1, 40)).as(Route::new);
    }

    private static Map<Long, Route> normalized(List<Route> list) {
        Map<Long, Route> m = new LinkedHashMap<>();
        for (Route r : list) {
            int p = r.prefix() & DxrTable.Builder.mask(r.len());
            m.put(DxrTable.Builder.key(p, r.len()), new Route(p, r.len(), r.hop()));
        }
        return m;
    }

    /** Addresses near every route's edges, inside them, and at random. */
    private static List<Integer> probes(Map<Long, Route> routes, long seed) {
        Random rnd = new Random(seed);
        List<Integer> out = new ArrayList<>();
        for (Route r : routes.values()) {
            int size = r.len() == 0 ? -1 : (int) ((1L << (32 - r.len())) - 1);
            out.add(r.prefix());
            out.add(r.prefix() - 1);
            out.add(r.prefix() + size);
            out.add(r.prefix() + size + 1);
            out.add(r.prefix() + (rnd.nextInt() & size));
        }
        for (int i = 0; i < 200; i++) {
            out.add(rnd.nextInt());
            out.add(0x0a000000 | rnd.nextInt(1 << 22));
        }
        return out;
    }

    private static void assertSame(DxrTable t, Map<Long, Route> routes, long seed) {
        for (int addr : probes(routes, seed)) {
            assertEquals(naive(routes, addr), t.lookup(addr), () -> "address " + Integer.toUnsignedString(addr, 16));
        }
    }

    @Property(tries = 100)
    void tableMatchesNaiveLongestPrefix(@ForAll @Size(max = 300) List<@net.jqwik.api.From("routes") Route> list,
                                        @ForAll long seed) {
        DxrTable.Builder b = new DxrTable.Builder();
        Map<Long, Route> routes = normalized(list);
        for (Route r : routes.values()) {
            b.add(r.prefix(), r.len(), r.hop());
        }
        assertSame(b.build(), routes, seed);
    }

    @Property(tries = 60)
    void incrementalChangesMatchNaiveLongestPrefix(@ForAll @Size(max = 200) List<@net.jqwik.api.From("routes") Route> initial,
                                                   @ForAll @Size(min = 1, max = 60) List<@net.jqwik.api.From("routes") Route> changes,
                                                   @ForAll long seed) {
        DxrTable.Builder b = new DxrTable.Builder();
        Map<Long, Route> routes = normalized(initial);
        for (Route r : routes.values()) {
            b.add(r.prefix(), r.len(), r.hop());
        }
        DxrTable before = b.build();
        Map<Long, Route> beforeRoutes = new LinkedHashMap<>(routes);
        Random rnd = new Random(seed);
        for (Route c : normalized(changes).values()) {
            if (!routes.isEmpty() && rnd.nextInt(3) == 0) {
                Route victim = new ArrayList<>(routes.values()).get(rnd.nextInt(routes.size()));
                routes.remove(DxrTable.Builder.key(victim.prefix(), victim.len()));
                b.remove(victim.prefix(), victim.len());
            } else {
                routes.put(DxrTable.Builder.key(c.prefix(), c.len()), c);
                b.add(c.prefix(), c.len(), c.hop());
            }
            if (rnd.nextInt(4) == 0) {
                assertSame(b.build(), routes, seed); // several generations of appended ranges
            }
        }
        assertSame(b.build(), routes, seed);
        assertSame(before, beforeRoutes, seed); // a published table never changes
    }
}
