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
 * The switches this daemon serves, by name. Read from the event loop without the switches'
 * configuration lock: a switch's ports and lookup module are volatile snapshots
 * ({@link ValeSwitch#portList()}, {@link ValeSwitch#lookup()}). Everything else about a switch (its
 * routes, its learning table) is read from the switch itself, never copied here.
 */
final class Hosted {
    private final Map<String, ValeSwitch> switches = new ConcurrentSkipListMap<>();

    void add(ValeSwitch sw) {
        switches.put(sw.name(), sw);
    }

    void remove(ValeSwitch sw) {
        switches.remove(sw.name(), sw);
    }

    boolean contains(String name) {
        return switches.containsKey(name);
    }

    List<ValeSwitch> all() {
        return List.copyOf(switches.values());
    }

    /** Switch {@code name}, or 404 saying which there are. */
    ValeSwitch get(String name) {
        ValeSwitch sw = switches.get(name);
        if (sw == null) {
            throw ApiError.notFound("no switch \"" + name + "\" (switches: " + String.join(", ", switches.keySet()) + ")");
        }
        return sw;
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
