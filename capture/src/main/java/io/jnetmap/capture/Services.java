package io.jnetmap.capture;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Service, IP protocol and ether protocol names: /etc/services and /etc/protocols, with a built-in fallback. */
final class Services {
    static final int TCP = 6, UDP = 17, UNDEF = -1;

    private static final Map<String, Integer> TCP_PORTS = new HashMap<>();
    private static final Map<String, Integer> UDP_PORTS = new HashMap<>();
    private static final Map<String, Integer> PROTOCOLS = new HashMap<>();

    static {
        for (Object[] e : new Object[][] {{"echo", 7, 7}, {"discard", 9, 9}, {"ftp-data", 20, -1}, {"ftp", 21, -1}, {"ssh", 22, -1},
                {"telnet", 23, -1}, {"smtp", 25, -1}, {"domain", 53, 53}, {"bootps", -1, 67}, {"bootpc", -1, 68},
                {"tftp", -1, 69}, {"http", 80, -1}, {"www", 80, -1}, {"pop3", 110, -1}, {"ntp", -1, 123}, {"imap", 143, -1}, {"imap2", 143, -1},
                {"snmp", -1, 161}, {"bgp", 179, -1}, {"https", 443, -1}, {"syslog", -1, 514}}) {
            if ((int) e[1] >= 0) TCP_PORTS.put((String) e[0], (Integer) e[1]);
            if ((int) e[2] >= 0) UDP_PORTS.put((String) e[0], (Integer) e[2]);
        }
        for (Object[] e : new Object[][] {{"ip", 0}, {"icmp", 1}, {"igmp", 2}, {"tcp", 6}, {"egp", 8}, {"igp", 9}, {"udp", 17},
                {"ipv6", 41}, {"ipv6-route", 43}, {"ipv6-frag", 44}, {"gre", 47}, {"esp", 50}, {"ah", 51}, {"ipv6-icmp", 58},
                {"ipv6-nonxt", 59}, {"ipv6-opts", 60}, {"ospf", 89}, {"pim", 103}, {"vrrp", 112}, {"sctp", 132}}) {
            PROTOCOLS.put((String) e[0], (Integer) e[1]);
        }
        try {
            for (String line : lines("/etc/services")) {
                String[] f = line.split("\\s+");
                if (f.length < 2 || !f[1].contains("/")) continue;
                String[] pp = f[1].split("/");
                int port = Integer.parseInt(pp[0]);
                Map<String, Integer> m = pp[1].equals("tcp") ? TCP_PORTS : pp[1].equals("udp") ? UDP_PORTS : null;
                if (m == null) continue;
                m.putIfAbsent(f[0], port);
                for (int i = 2; i < f.length; i++) m.putIfAbsent(f[i], port);
            }
            for (String line : lines("/etc/protocols")) {
                String[] f = line.split("\\s+");
                if (f.length < 2) continue;
                int v = Integer.parseInt(f[1]);
                PROTOCOLS.putIfAbsent(f[0], v);
                for (int i = 2; i < f.length; i++) PROTOCOLS.putIfAbsent(f[i], v);
            }
        } catch (RuntimeException e) {
            // a malformed system file: the built-in names remain
        }
    }

    private static List<String> lines(String file) {
        try {
            return Files.readAllLines(Path.of(file)).stream()
                    .map(l -> l.replaceAll("#.*", "").trim()).filter(l -> !l.isEmpty()).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private Services() {
    }

    /** {port, proto} for a service name or a number; proto is TCP, UDP or UNDEF (both); null if unknown. */
    static int[] port(String name) {
        if (name.matches("[0-9]+")) {
            long v = Long.parseLong(name);
            return new int[] {(int) Math.min(v, Integer.MAX_VALUE), UNDEF};
        }
        Integer t = TCP_PORTS.get(name), u = UDP_PORTS.get(name);
        if (t != null) return new int[] {t, u != null && u.equals(t) ? UNDEF : TCP};
        if (u != null) return new int[] {u, UDP};
        return null;
    }

    static int ipProto(String name) {
        Integer v = PROTOCOLS.get(name);
        return v == null ? -1 : v;
    }

    static int etherProto(String name) {
        return switch (name) {
            case "ip" -> 0x0800;
            case "ip6" -> 0x86dd;
            case "arp" -> 0x0806;
            case "rarp" -> 0x8035;
            case "atalk" -> 0x809b;
            case "aarp" -> 0x80f3;
            case "sca" -> 0x6007;
            case "lat" -> 0x6004;
            case "decnet" -> 0x6003;
            case "mopdl" -> 0x6001;
            case "moprc" -> 0x6002;
            case "loopback" -> 0x9000;
            case "pup" -> 0x0200;
            case "802.1q" -> 0x8100;
            case "ipx" -> 0x8137;
            default -> -1;
        };
    }
}
