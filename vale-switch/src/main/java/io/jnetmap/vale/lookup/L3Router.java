package io.jnetmap.vale.lookup;

import io.jnetmap.vale.LookupModule;
import io.jnetmap.vale.Packet;
import io.jnetmap.vale.ValeSwitch;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A static IPv4 router as a switch's lookup module: every switch port is a router interface. For an
 * IPv4 packet it finds the longest matching route in a {@link DxrTable} (direct-indexed, the table is
 * located, not searched), and the destination's copy is rewritten: destination MAC = the next hop's,
 * source MAC = the outgoing port's, TTL - 1 with the header checksum updated incrementally (RFC 1624).
 * Dropped and counted: TTL at most 1 ({@link #DROP_TTL}), no route ({@link #DROP_NO_ROUTE}), not IPv4
 * or a malformed header ({@link #DROP_NOT_IP}); a next hop whose port is not on the switch is a lookup
 * drop ({@link #NO_PORT}). The router accepts every frame (it does not check that the destination
 * MAC is its own) and does not verify header checksums.
 *
 * <p>Routes and next hops change at run time without stopping traffic: a change builds a new table
 * (only the /16 chunks it touches) and publishes it with one volatile store; forwarders use whichever
 * table they read. Next hops are numbered 1..65535 and never reused.
 *
 * <pre>{@code
 * L3Router r = new L3Router();
 * ValeSwitch sw = ValeSwitches.create("vale1", r);
 * int gw = r.nextHop("b", Packet.parseMac("02:00:00:00:00:0b"));
 * r.addRoute("10.1.0.0/16", gw);
 * }</pre>
 */
public final class L3Router implements LookupModule {
    private static final int ETH_IPV4 = 0x0800;
    private static final int L3 = 14;

    /** Next hops and port addresses as forwarders see them; replaced, never modified. */
    private record Hops(int[] port, long[] mac, long[] portMac) {
    }

    /** A batch of route changes, applied by {@link #update}. */
    public interface RouteEditor {
        /** Adds or replaces {@code prefix/len} via next hop {@code hop}. */
        void add(int prefix, int len, int hop);

        /** Removes {@code prefix/len}; false if there was no such route. */
        boolean remove(int prefix, int len);
    }

    private final DxrTable.Builder builder = new DxrTable.Builder();
    private volatile DxrTable table = builder.build();
    private volatile Hops hops = new Hops(new int[] {-1}, new long[1], defaultPortMacs());
    /** Control plane state, guarded by this. */
    private final Map<String, Integer> portIndex = new HashMap<>();
    private final Map<String, Long> portMacOverride = new HashMap<>();
    private String[] hopPort = new String[1];
    private final Map<String, Integer> hopIds = new HashMap<>();
    /** Routes in the table; written under this after every change. */
    private volatile int routeCount;
    /** Bumped (under this) after every change that may change a decision. */
    private volatile long version;

    private static long[] defaultPortMacs() {
        long[] m = new long[ValeSwitch.MAX_PORTS];
        for (int i = 0; i < ValeSwitch.MAX_PORTS; i++) {
            m[i] = defaultPortMac(i);
        }
        return m;
    }

    /** {@code 02:00:00:00:fe:NN}: the router's address on port index NN unless set otherwise. */
    public static long defaultPortMac(int port) {
        return 0x02000000fe00L | port;
    }

    @Override
    public String name() {
        return "l3-router";
    }

    // ----------------------------------------------------------------------------------------------
    // forwarding

    @Override
    public int lookup(Packet p) {
        if (p.length() < L3 + 20) {
            return DROP_NOT_IP;
        }
        int typeVihl = p.u32(12); // EtherType, then the IPv4 version and header length
        int vihl = (typeVihl >>> 8) & 0xff;
        if (typeVihl >>> 16 != ETH_IPV4) {
            return DROP_NOT_IP;
        }
        if (vihl >>> 4 != 4 || (vihl & 15) < 5 || p.length() < L3 + (vihl & 15) * 4) {
            return DROP_NOT_IP;
        }
        if (p.u8(L3 + 8) <= 1) {
            return DROP_TTL;
        }
        int hop = table.lookup(p.u32(L3 + 16));
        if (hop == 0) {
            return DROP_NO_ROUTE;
        }
        int port = hops.port[hop];
        if (port < 0) {
            return NO_PORT;
        }
        p.setCookie(hop);
        return port;
    }

    @Override
    public boolean rewrites() {
        return true;
    }

    @Override
    public void rewrite(MemorySegment src, long srcOffset, MemorySegment dst, long dstOffset, int len, int dstPort,
                        int cookie) {
        Hops h = hops;
        long to = h.mac[cookie];
        long from = h.portMac[dstPort];
        Packet.writeU64(dst, dstOffset, to << 16 | from >>> 32); // both addresses in two stores
        Packet.writeU32(dst, dstOffset + 8, (int) from);
        Packet.writeU32(dst, dstOffset + L3 + 8, decrementTtl(Packet.readU32(src, srcOffset + L3 + 8)));
    }

    /**
     * The IPv4 header's word at offset 8 (TTL, protocol, header checksum) after TTL - 1, the checksum
     * updated incrementally: HC' = ~(~HC + ~m + m') over the 16-bit word m holding TTL and protocol
     * (RFC 1624, eqn. 3).
     */
    static int decrementTtl(int word) {
        int m = word >>> 16;
        int m2 = m - 0x100;
        int sum = (~word & 0xffff) + (~m & 0xffff) + m2;
        sum = (sum & 0xffff) + (sum >>> 16);
        sum = (sum & 0xffff) + (sum >>> 16);
        return m2 << 16 | (~sum & 0xffff);
    }

    // ----------------------------------------------------------------------------------------------
    // control plane

    /**
     * The next hop reached through switch port {@code port} at MAC {@code mac}: an existing one, or a
     * new one. Returns its number (1..65535) for {@link #addRoute}.
     */
    public synchronized int nextHop(String port, long mac) {
        String key = port + "/" + mac;
        Integer id = hopIds.get(key);
        if (id != null) {
            return id;
        }
        int n = hopPort.length;
        if (n > DxrTable.MAX_HOP) {
            throw new IllegalStateException("next hops=" + n + " (expected: at most " + DxrTable.MAX_HOP + ")");
        }
        hopPort = Arrays.copyOf(hopPort, n + 1);
        hopPort[n] = port;
        Hops h = hops;
        long[] mac2 = Arrays.copyOf(h.mac, n + 1);
        mac2[n] = mac;
        int[] port2 = Arrays.copyOf(h.port, n + 1);
        port2[n] = portIndex.getOrDefault(port, -1);
        hops = new Hops(port2, mac2, h.portMac);
        hopIds.put(key, n);
        return n;
    }

    /** Sets the router's own MAC on {@code port} (the source address of frames it sends there). */
    public synchronized void setPortMac(String port, long mac) {
        portMacOverride.put(port, mac);
        Integer i = portIndex.get(port);
        if (i != null) {
            Hops h = hops;
            long[] pm = h.portMac.clone();
            pm[i] = mac;
            hops = new Hops(h.port, h.mac, pm);
        }
    }

    /** Adds or replaces route {@code prefix/len} via next hop {@code hop}. */
    public void addRoute(int prefix, int len, int hop) {
        update(r -> r.add(prefix, len, hop));
    }

    /** Adds or replaces a route written {@code a.b.c.d/len}. */
    public void addRoute(String cidr, int hop) {
        int[] c = parseCidr(cidr);
        addRoute(c[0], c[1], hop);
    }

    /** Removes route {@code prefix/len}; false if there was none. */
    public boolean removeRoute(int prefix, int len) {
        boolean[] removed = new boolean[1];
        update(r -> removed[0] = r.remove(prefix, len));
        return removed[0];
    }

    /**
     * Applies a batch of route changes and publishes one new table: traffic keeps flowing on the old
     * table until the new one is in place.
     */
    public synchronized void update(Consumer<RouteEditor> changes) {
        changes.accept(new RouteEditor() {
            @Override
            public void add(int prefix, int len, int hop) {
                if (hop >= hopPort.length) {
                    throw new IllegalArgumentException("next hop=" + hop + " (expected: 1.." + (hopPort.length - 1)
                            + ", made with nextHop(port, mac))");
                }
                builder.add(prefix, len, hop);
            }

            @Override
            public boolean remove(int prefix, int len) {
                return builder.remove(prefix, len);
            }
        });
        // volatile store -> forwarders reading the table from now on use the new one
        table = builder.build();
        routeCount = builder.size();
        version++;
    }

    /** The next hop the current table gives for {@code addr} (0: no route). */
    public int route(int addr) {
        return table.lookup(addr);
    }

    /** Routes in the table (one volatile read: no lock). */
    public int routes() {
        return routeCount;
    }

    /** A route of the table: {@code prefix/len} via next hop {@code hop}, at {@code mac} on switch port {@code port}. */
    public record Route(int prefix, int len, int hop, String port, long mac) {
    }

    /**
     * The routes in the table now, ordered by prefix then length, whoever set them (the REST API,
     * vale-ctl, a program through this class).
     */
    public synchronized List<Route> routeList() {
        long[] keys = builder.routes().keySet().stream().mapToLong(Long::longValue).sorted().toArray();
        Hops h = hops;
        List<Route> out = new ArrayList<>(keys.length);
        for (long k : keys) {
            int hop = builder.routes().get(k);
            out.add(new Route((int) (k >>> 6), (int) (k & 63), hop, hopPort[hop], h.mac[hop]));
        }
        return out;
    }

    @Override
    public synchronized void portAttached(int port, String name) {
        portIndex.put(name, port);
        remapPorts();
    }

    @Override
    public synchronized void portDetached(int port) {
        portIndex.values().removeIf(i -> i == port);
        remapPorts();
    }

    private void remapPorts() {
        Hops h = hops;
        int[] port = new int[hopPort.length];
        port[0] = -1;
        for (int i = 1; i < hopPort.length; i++) {
            port[i] = portIndex.getOrDefault(hopPort[i], -1);
        }
        long[] pm = defaultPortMacs();
        portIndex.forEach((name, i) -> pm[i] = portMacOverride.getOrDefault(name, defaultPortMac(i)));
        hops = new Hops(port, h.mac, pm);
        version++;
    }

    @Override
    public long version() {
        return version;
    }

    /** Parses {@code a.b.c.d/len} into {prefix, len}. */
    public static int[] parseCidr(String cidr) {
        int slash = cidr.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("route=" + cidr + " (expected: a.b.c.d/len)");
        }
        int len;
        try {
            len = Integer.parseInt(cidr.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("route=" + cidr + " (expected: a.b.c.d/len)");
        }
        if (len < 0 || len > 32) {
            throw new IllegalArgumentException("route=" + cidr + " (expected: a prefix length 0..32)");
        }
        return new int[] {parseIpv4(cidr.substring(0, slash)), len};
    }

    /** Parses {@code a.b.c.d}. */
    public static int parseIpv4(String text) {
        String[] p = text.split("\\.");
        if (p.length != 4) {
            throw new IllegalArgumentException("address=" + text + " (expected: a.b.c.d)");
        }
        int a = 0;
        for (String o : p) {
            int v;
            try {
                v = Integer.parseInt(o);
            } catch (NumberFormatException e) {
                v = -1;
            }
            if (v < 0 || v > 255) {
                throw new IllegalArgumentException("address=" + text + " (expected: four numbers 0..255)");
            }
            a = a << 8 | v;
        }
        return a;
    }
}
