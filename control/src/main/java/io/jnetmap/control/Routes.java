package io.jnetmap.control;

import io.jnetmap.vale.Packet;
import io.jnetmap.vale.lookup.L3Router;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The L3 routes a switch's router got through the control plane, as the API lists them. Changed only
 * by control actions (on the housekeeping thread, with the router's table in the same action);
 * read from the event loop as an immutable snapshot (one volatile load).
 */
final class Routes {
    /** A route: {@code prefix/len} via next hop {@code mac} on switch port {@code port}. */
    record Route(int prefix, int len, String port, long mac) {
        String cidr() {
            return ipv4(prefix) + "/" + len;
        }

        String macText() {
            return Packet.macToString(mac);
        }

        /** Sort key: prefix, then length. */
        long key() {
            return (prefix & 0xffffffffL) << 6 | len;
        }
    }

    private volatile NavigableMap<Long, Route> table = Collections.emptyNavigableMap();

    List<Route> list() {
        return List.copyOf(table.values());
    }

    int size() {
        return table.size();
    }

    /** Adds or replaces {@code r} in {@code router} and here. On the housekeeping thread. */
    void add(L3Router router, Route r) {
        int hop = router.nextHop(r.port(), r.mac());
        router.addRoute(r.prefix(), r.len(), hop);
        NavigableMap<Long, Route> t = new TreeMap<>(table);
        t.put(r.key(), r);
        table = Collections.unmodifiableNavigableMap(t);
    }

    /** Removes {@code prefix/len}; false if there was no such route. On the housekeeping thread. */
    boolean remove(L3Router router, int prefix, int len) {
        boolean removed = router.removeRoute(prefix, len);
        NavigableMap<Long, Route> t = new TreeMap<>(table);
        boolean known = t.remove(new Route(prefix, len, "", 0).key()) != null;
        table = Collections.unmodifiableNavigableMap(t);
        return removed || known;
    }

    /**
     * Replaces the whole table with {@code routes} in one publication of the router's table: traffic
     * sees the old table or the new one, never a mix. On the housekeeping thread.
     */
    void replace(L3Router router, List<Route> routes) {
        int[] hops = new int[routes.size()];
        for (int i = 0; i < hops.length; i++) {
            hops[i] = router.nextHop(routes.get(i).port(), routes.get(i).mac());
        }
        NavigableMap<Long, Route> old = table;
        NavigableMap<Long, Route> t = new TreeMap<>();
        for (Route r : routes) {
            t.put(r.key(), r);
        }
        router.update(e -> {
            for (Map.Entry<Long, Route> o : old.entrySet()) {
                if (!t.containsKey(o.getKey())) {
                    e.remove(o.getValue().prefix(), o.getValue().len());
                }
            }
            for (int i = 0; i < hops.length; i++) {
                e.add(routes.get(i).prefix(), routes.get(i).len(), hops[i]);
            }
        });
        table = Collections.unmodifiableNavigableMap(t);
    }

    /** Forgets everything (the switch got a new router). */
    void clear() {
        table = Collections.emptyNavigableMap();
    }

    static String ipv4(int a) {
        return (a >>> 24) + "." + (a >>> 16 & 0xff) + "." + (a >>> 8 & 0xff) + "." + (a & 0xff);
    }
}
