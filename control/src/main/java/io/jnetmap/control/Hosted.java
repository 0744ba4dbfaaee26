package io.jnetmap.control;

import io.jnetmap.vale.LookupModule;
import io.jnetmap.vale.SwitchPort;
import io.jnetmap.vale.ValeSwitch;
import io.jnetmap.vale.lookup.FlowCache;
import io.jnetmap.vale.lookup.L3Router;
import io.jnetmap.vale.lookup.LearningBridge;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The switches this daemon serves, by name, and what the control plane keeps beside each (its routes).
 * Read from the event loop without the switches' configuration lock: a switch's ports and lookup
 * module are volatile snapshots ({@link ValeSwitch#portList()}, {@link ValeSwitch#lookup()}).
 */
final class Hosted {
    /** A served switch and the routes set through the API. */
    record Entry(ValeSwitch sw, Routes routes) {
    }

    private final Map<String, Entry> switches = new ConcurrentSkipListMap<>();

    void add(ValeSwitch sw) {
        switches.put(sw.name(), new Entry(sw, new Routes()));
    }

    List<Entry> all() {
        return List.copyOf(switches.values());
    }

    /** Switch {@code name}, or 404 saying which there are. */
    Entry get(String name) {
        Entry e = switches.get(name);
        if (e == null) {
            throw ApiError.notFound("no switch \"" + name + "\" (switches: " + String.join(", ", switches.keySet()) + ")");
        }
        return e;
    }

    /** Port {@code name} of {@code sw}, or 404 saying which there are. */
    static SwitchPort port(ValeSwitch sw, String name) {
        return sw.port(name).orElseThrow(() -> ApiError.notFound("no port \"" + name + "\" on switch " + sw.name()
                + " (ports: " + String.join(", ", sw.portList().stream().map(SwitchPort::name).toList()) + ")"));
    }

    /** The learning bridge deciding for {@code sw} (directly or under a flow cache), or null. */
    static LearningBridge bridge(ValeSwitch sw) {
        return inner(sw.lookup()) instanceof LearningBridge b ? b : null;
    }

    /** The router deciding for {@code sw} (directly or under a flow cache), or null. */
    static L3Router router(ValeSwitch sw) {
        return inner(sw.lookup()) instanceof L3Router r ? r : null;
    }

    static LookupModule inner(LookupModule m) {
        return m instanceof FlowCache fc ? fc.inner() : m;
    }
}
