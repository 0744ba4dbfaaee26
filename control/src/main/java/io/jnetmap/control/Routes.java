package io.jnetmap.control;

import io.jnetmap.vale.Packet;
import io.jnetmap.vale.lookup.L3Router;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The API's view of a switch's L3 routes. The router is the only copy: routes are listed from
 * {@link L3Router#routeList()}, so routes added by vale-ctl or by a program through the router show
 * as well. Changes are light control requests ({@link ControlQueue#callLight}): they run between two
 * batches of a forwarding thread, or on the housekeeping thread.
 */
final class Routes {
    private Routes() {
    }

    /** A route: {@code prefix/len} via next hop {@code mac} on switch port {@code port}. */
    record Route(int prefix, int len, String port, long mac) {
        String cidr() {
            return ipv4(prefix) + "/" + len;
        }

        String macText() {
            return Packet.macToString(mac);
        }

        /** Prefix and length in one number. */
        long key() {
            return (prefix & 0xffffffffL) << 6 | len;
        }
    }

    /** The router's routes now, by prefix then length. Takes the router's lock: not on the event loop. */
    static List<Route> list(L3Router router) {
        return router.routeList().stream().map(r -> new Route(r.prefix(), r.len(), r.port(), r.mac())).toList();
    }

    /** Adds or replaces {@code r}. */
    static void add(L3Router router, Route r) {
        router.addRoute(r.prefix(), r.len(), router.nextHop(r.port(), r.mac()));
    }

    /** Removes {@code prefix/len}; false if there was no such route. */
    static boolean remove(L3Router router, int prefix, int len) {
        return router.removeRoute(prefix, len);
    }

    /**
     * Replaces the whole table with {@code routes} in one publication of the router's table: traffic
     * sees the old table or the new one, never a mix; routes that stay are never missing.
     */
    static void replace(L3Router router, List<Route> routes) {
        int[] hops = new int[routes.size()];
        Set<Long> keep = new HashSet<>();
        for (int i = 0; i < hops.length; i++) {
            hops[i] = router.nextHop(routes.get(i).port(), routes.get(i).mac());
            keep.add(routes.get(i).key());
        }
        router.update(e -> { // under the router's lock: the old table is exactly what is replaced
            for (L3Router.Route o : router.routeList()) {
                if (!keep.contains(new Route(o.prefix(), o.len(), o.port(), o.mac()).key())) {
                    e.remove(o.prefix(), o.len());
                }
            }
            for (int i = 0; i < hops.length; i++) {
                e.add(routes.get(i).prefix(), routes.get(i).len(), hops[i]);
            }
        });
    }

    static String ipv4(int a) {
        return (a >>> 24) + "." + (a >>> 16 & 0xff) + "." + (a >>> 8 & 0xff) + "." + (a & 0xff);
    }
}
