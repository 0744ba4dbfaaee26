package io.jnetmap.vale;

import java.util.Arrays;
import java.util.function.LongSupplier;

/**
 * What a forwarder needs of its switch for one batch, read with one volatile load: the port table,
 * the lookup module, the clock and the counters. Immutable; the switch publishes a new view on every
 * configuration change (a port joining or leaving, a new module), so a batch sees one consistent
 * switch from start to end.
 */
final class SwitchView {
    /** Ports by index ({@code null}: free); length {@link ValeSwitch#MAX_PORTS}. */
    final SwitchPort[] byIndex;
    /** The ports in index order. */
    final SwitchPort[] list;
    final LookupModule lookup;
    final LongSupplier clock;
    final SwitchStats stats;

    private SwitchView(SwitchPort[] byIndex, SwitchPort[] list, LookupModule lookup, LongSupplier clock,
                       SwitchStats stats) {
        this.byIndex = byIndex;
        this.list = list;
        this.lookup = lookup;
        this.clock = clock;
        this.stats = stats;
    }

    /** A switch without ports. */
    static SwitchView empty(LookupModule lookup, SwitchStats stats) {
        return new SwitchView(new SwitchPort[ValeSwitch.MAX_PORTS], new SwitchPort[0], lookup, System::nanoTime, stats);
    }

    SwitchView with(SwitchPort p) {
        SwitchPort[] b = byIndex.clone();
        b[p.index] = p;
        return new SwitchView(b, compact(b), lookup, clock, stats);
    }

    SwitchView without(SwitchPort p) {
        SwitchPort[] b = byIndex.clone();
        b[p.index] = null;
        return new SwitchView(b, compact(b), lookup, clock, stats);
    }

    SwitchView withLookup(LookupModule module) {
        return new SwitchView(byIndex, list, module, clock, stats);
    }

    SwitchView withClock(LongSupplier c) {
        return new SwitchView(byIndex, list, lookup, c, stats);
    }

    /** The time of a batch ({@link System#nanoTime()} unless a test drives the clock). */
    long now() {
        return clock.getAsLong();
    }

    private static SwitchPort[] compact(SwitchPort[] b) {
        return Arrays.stream(b).filter(x -> x != null).toArray(SwitchPort[]::new);
    }
}
