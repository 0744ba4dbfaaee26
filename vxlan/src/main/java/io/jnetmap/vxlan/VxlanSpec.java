package io.jnetmap.vxlan;

import io.jnetmap.core.NetmapException;
import io.jnetmap.sys.Udp;

import java.util.ArrayList;
import java.util.List;

/**
 * The SPEC of a {@code vxlan:SPEC} port name, comma-separated {@code key=value} pairs:
 *
 * <pre>
 *   local=ADDR[:PORT]   IPv4 address (and UDP port, default 4789) the tunnel endpoint listens on and
 *                       sends from; required. ADDR 0.0.0.0 listens on every address (the kernel then
 *                       picks the source address of sent datagrams)
 *   vni=N               the VXLAN network identifier, 0..16777215; required
 *   remote=ADDR         a static remote endpoint, repeatable: the flood list for broadcast, multicast
 *                       and unknown unicast (Linux's all-zero fdb entries); none = learned remotes only
 *   dstport=P           UDP destination port of sent datagrams (Linux's dstport; default: the local PORT)
 *   mtu=N               underlay MTU; a frame whose datagram (frame + 36 bytes of IP, UDP, VXLAN
 *                       headers) exceeds it is dropped and counted, never fragmented. Default 1500
 *   ttl=N               outer TTL, default 64
 *   age=S               seconds a learned MAC -> remote entry lives without traffic, default 300
 * </pre>
 */
public record VxlanSpec(int localIp, int localPort, int vni, int[] remotes, int dstPort, int mtu, int ttl, int ageSeconds) {
    /** IANA's VXLAN port. */
    public static final int DEFAULT_PORT = 4789;
    /** Outer IPv4 (20) + UDP (8) + VXLAN (8) headers. */
    public static final int OUTER_HEADERS = 36;

    /** Parses {@code spec}; errors say {@code key=value (expected: ...)}. */
    public static VxlanSpec parse(String spec) {
        Integer local = null;
        int localPort = DEFAULT_PORT;
        int vni = -1;
        int dstPort = -1;
        int mtu = 1500;
        int ttl = 64;
        int age = 300;
        List<Integer> remotes = new ArrayList<>();
        for (String kv : spec.split(",", -1)) {
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                throw bad(kv, "key=value, keys: local, vni, remote, dstport, mtu, ttl, age");
            }
            String k = kv.substring(0, eq);
            String v = kv.substring(eq + 1);
            switch (k) {
                case "local" -> {
                    if (local != null) {
                        throw bad(kv, "local= once");
                    }
                    int colon = v.indexOf(':');
                    local = Udp.parseIpv4(colon < 0 ? v : v.substring(0, colon));
                    if (local == null) {
                        throw bad(kv, "an IPv4 address, optionally :PORT");
                    }
                    if (colon >= 0) {
                        localPort = number(kv, v.substring(colon + 1), 1, 65535, "a UDP port 1..65535 after ':'");
                    }
                }
                case "vni" -> vni = number(kv, v, 0, 0xffffff, "0..16777215");
                case "remote" -> {
                    Integer r = Udp.parseIpv4(v);
                    if (r == null || r == 0) {
                        throw bad(kv, "an IPv4 address other than 0.0.0.0");
                    }
                    if (!remotes.contains(r)) {
                        remotes.add(r);
                    }
                }
                case "dstport" -> dstPort = number(kv, v, 1, 65535, "a UDP port 1..65535");
                case "mtu" -> mtu = number(kv, v, 68, 65535, "68..65535");
                case "ttl" -> ttl = number(kv, v, 1, 255, "1..255");
                case "age" -> age = number(kv, v, 1, 1_000_000, "1..1000000 seconds");
                default -> throw bad(kv, "one of the keys local, vni, remote, dstport, mtu, ttl, age");
            }
        }
        if (local == null) {
            throw new NetmapException("vxlan:" + spec + " (expected: local=ADDR[:PORT])");
        }
        if (vni < 0) {
            throw new NetmapException("vxlan:" + spec + " (expected: vni=N)");
        }
        int[] r = remotes.stream().mapToInt(Integer::intValue).toArray();
        return new VxlanSpec(local, localPort, vni, r, dstPort < 0 ? localPort : dstPort, mtu, ttl, age);
    }

    private static int number(String kv, String v, int min, int max, String expected) {
        if (v.isEmpty() || v.length() > 9 || !v.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw bad(kv, expected);
        }
        int n = Integer.parseInt(v);
        if (n < min || n > max) {
            throw bad(kv, expected);
        }
        return n;
    }

    private static NetmapException bad(String kv, String expected) {
        return new NetmapException("vxlan: " + kv + " (expected: " + expected + ")");
    }

    /** The largest inner frame that fits the underlay. */
    public int maxFrame() {
        return mtu - OUTER_HEADERS;
    }

    /** {@code ADDR:PORT}, the key of the socket shared by every VNI on it. */
    public String localKey() {
        return Udp.formatIpv4(localIp) + ":" + localPort;
    }
}
