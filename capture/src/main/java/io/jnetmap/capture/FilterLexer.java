package io.jnetmap.capture;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** libpcap's scanner: longest match, and on a tie the earlier rule (MAC, IPv6, dotted IPv4, number, keyword, name). */
final class FilterLexer {
    enum T { NUM, ID, HID, HID6, EID, KW, OP, EOF }

    record Tok(T type, String text, long num, int col) {
        boolean is(String s) {
            return (type == T.KW || type == T.OP) && text.equals(s);
        }

        String describe() {
            return type == T.EOF ? "end of expression" : "'" + text + "'";
        }
    }

    private static final String B = "[0-9A-Fa-f]{1,2}";
    private static final Pattern MAC = Pattern.compile(B + "(:" + B + "){5}|" + B + "(-" + B + "){5}|" + B + "(\\." + B + "){5}"
            + "|[0-9A-Fa-f]{4}\\.[0-9A-Fa-f]{4}\\.[0-9A-Fa-f]{4}|[0-9A-Fa-f]{12}");
    private static final Pattern V6 = Pattern.compile("[0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){2,7}(\\.[0-9]{1,3}){0,3}");
    private static final String N = "(0[xX][0-9A-Fa-f]+|[0-9]+)";
    private static final Pattern HID = Pattern.compile(N + "(\\." + N + "){1,3}");
    private static final Pattern NUM = Pattern.compile(N);
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9]([-_.A-Za-z0-9]*[.A-Za-z0-9])?");
    private static final Pattern ESC = Pattern.compile("\\\\[^ !()\\n\\t]+");

    static final Set<String> KEYWORDS = Set.of(
            "dst", "src", "link", "ether", "ppp", "slip", "fddi", "tr", "wlan", "arp", "rarp", "ip", "sctp", "tcp", "udp",
            "icmp", "igmp", "igrp", "pim", "vrrp", "carp", "radio", "ip6", "icmp6", "ah", "esp", "atalk", "aarp", "decnet",
            "lat", "sca", "moprc", "mopdl", "iso", "esis", "es-is", "isis", "is-is", "l1", "l2", "iih", "lsp", "snp", "csnp",
            "psnp", "clnp", "stp", "ipx", "netbeui", "host", "net", "mask", "port", "portrange", "proto", "protochain",
            "gateway", "type", "subtype", "direction", "dir", "address1", "addr1", "address2", "addr2", "address3", "addr3",
            "address4", "addr4", "ra", "ta", "less", "greater", "byte", "broadcast", "multicast", "and", "or", "not", "len",
            "inbound", "outbound", "ifindex", "vlan", "mpls", "pppoed", "pppoes", "geneve", "lane", "llc", "metac", "bcc",
            "oam", "oamf4", "oamf4ec", "oamf4sc", "sc", "ilmic", "vpi", "vci", "connectmsg", "metaconnect", "on", "ifname",
            "rnr", "rulenum", "reason", "rset", "srnr", "subrule", "action", "fisu", "lssu", "lsu", "sio", "opc", "dpc",
            "sls", "hfisu", "hlssu", "hmsu", "hsio", "hopc", "hdpc", "hsls");

    /** pcap-filter(7)'s named constants, which the scanner turns into numbers. */
    static final Map<String, Long> CONSTANTS = Map.ofEntries(
            Map.entry("icmptype", 0L), Map.entry("icmpcode", 1L), Map.entry("icmp-echoreply", 0L), Map.entry("icmp-unreach", 3L),
            Map.entry("icmp-sourcequench", 4L), Map.entry("icmp-redirect", 5L), Map.entry("icmp-echo", 8L),
            Map.entry("icmp-routeradvert", 9L), Map.entry("icmp-routersolicit", 10L), Map.entry("icmp-timxceed", 11L),
            Map.entry("icmp-paramprob", 12L), Map.entry("icmp-tstamp", 13L), Map.entry("icmp-tstampreply", 14L),
            Map.entry("icmp-ireq", 15L), Map.entry("icmp-ireqreply", 16L), Map.entry("icmp-maskreq", 17L),
            Map.entry("icmp-maskreply", 18L),
            Map.entry("icmp6type", 0L), Map.entry("icmp6code", 1L), Map.entry("icmp6-destinationunreach", 1L),
            Map.entry("icmp6-packettoobig", 2L), Map.entry("icmp6-timeexceeded", 3L), Map.entry("icmp6-parameterproblem", 4L),
            Map.entry("icmp6-echo", 128L), Map.entry("icmp6-echoreply", 129L), Map.entry("icmp6-multicastlistenerquery", 130L),
            Map.entry("icmp6-multicastlistenerreportv1", 131L), Map.entry("icmp6-multicastlistenerdone", 132L),
            Map.entry("icmp6-routersolicit", 133L), Map.entry("icmp6-routeradvert", 134L),
            Map.entry("icmp6-neighborsolicit", 135L), Map.entry("icmp6-neighboradvert", 136L), Map.entry("icmp6-redirect", 137L),
            Map.entry("icmp6-routerrenum", 138L), Map.entry("icmp6-nodeinformationquery", 139L),
            Map.entry("icmp6-nodeinformationresponse", 140L), Map.entry("icmp6-ineighbordiscoverysolicit", 141L),
            Map.entry("icmp6-ineighbordiscoveryadvert", 142L), Map.entry("icmp6-multicastlistenerreportv2", 143L),
            Map.entry("icmp6-homeagentdiscoveryrequest", 144L), Map.entry("icmp6-homeagentdiscoveryreply", 145L),
            Map.entry("icmp6-mobileprefixsolicit", 146L), Map.entry("icmp6-mobileprefixadvert", 147L),
            Map.entry("icmp6-certpathsolicit", 148L), Map.entry("icmp6-certpathadvert", 149L),
            Map.entry("icmp6-multicastrouteradvert", 151L), Map.entry("icmp6-multicastroutersolicit", 152L),
            Map.entry("icmp6-multicastrouterterm", 153L),
            Map.entry("tcpflags", 13L), Map.entry("tcp-fin", 1L), Map.entry("tcp-syn", 2L), Map.entry("tcp-rst", 4L),
            Map.entry("tcp-push", 8L), Map.entry("tcp-ack", 16L), Map.entry("tcp-urg", 32L), Map.entry("tcp-ece", 64L),
            Map.entry("tcp-cwr", 128L));

    private static final String[] OPS = {"&&", "||", ">=", "<=", "!=", "==", "<<", ">>", "!", "(", ")", "[", "]", ":", "+", "-", "*", "/",
            "%", "&", "|", "^", "<", ">", "="};

    static List<Tok> lex(String expr) {
        List<Tok> out = new ArrayList<>();
        int i = 0, n = expr.length();
        while (true) {
            while (i < n && Character.isWhitespace(expr.charAt(i))) i++;
            if (i >= n) {
                out.add(new Tok(T.EOF, "", 0, n + 1));
                return out;
            }
            int col = i + 1;
            char c = expr.charAt(i);
            if (c == '\\') {
                Matcher m = ESC.matcher(expr).region(i, n);
                if (m.lookingAt() && m.end() > i + 1) {
                    out.add(new Tok(T.ID, expr.substring(i + 1, m.end()), 0, col));
                    i = m.end();
                    continue;
                }
            }
            int best = -1;
            T bestType = null;
            for (Object[] r : new Object[][] {{MAC, T.EID}, {V6, T.HID6}, {HID, T.HID}, {NUM, T.NUM}, {ID, T.ID}}) {
                Matcher m = ((Pattern) r[0]).matcher(expr).region(i, n);
                if (m.lookingAt() && m.end() > best) {
                    if (r[1] == T.HID6 && !validV6(m.group())) continue;
                    best = m.end();
                    bestType = (T) r[1];
                }
            }
            if (best > i) {
                String text = expr.substring(i, best);
                i = best;
                switch (bestType) {
                    case NUM -> out.add(new Tok(T.NUM, text, parseNumber(expr, text, col), col));
                    case ID -> {
                        if (CONSTANTS.containsKey(text)) {
                            out.add(new Tok(T.NUM, text, CONSTANTS.get(text), col));
                        } else if (KEYWORDS.contains(text)) {
                            out.add(new Tok(T.KW, canonical(text), 0, col));
                        } else {
                            out.add(new Tok(T.ID, text, 0, col));
                        }
                    }
                    default -> out.add(new Tok(bestType, text, 0, col));
                }
                continue;
            }
            String op = null;
            for (String o : OPS) {
                if (expr.startsWith(o, i)) {
                    op = o;
                    break;
                }
            }
            if (op == null) {
                throw new FilterSyntaxException(expr, col, "syntax error: unexpected character '" + c + "'");
            }
            i += op.length();
            switch (op) {
                case "&&" -> out.add(new Tok(T.KW, "and", 0, col));
                case "||" -> out.add(new Tok(T.KW, "or", 0, col));
                case "!" -> out.add(new Tok(T.KW, "not", 0, col));
                case "==" -> out.add(new Tok(T.OP, "=", 0, col));
                default -> out.add(new Tok(T.OP, op, 0, col));
            }
        }
    }

    private static String canonical(String kw) {
        return switch (kw) {
            case "link", "ppp", "slip" -> "ether";
            case "es-is" -> "esis";
            case "is-is" -> "isis";
            case "dir" -> "direction";
            case "addr1" -> "address1";
            case "addr2" -> "address2";
            case "addr3" -> "address3";
            case "addr4" -> "address4";
            default -> kw;
        };
    }

    static long parseNumber(String expr, String text, int col) {
        try {
            long v;
            if (text.startsWith("0x") || text.startsWith("0X")) {
                v = Long.parseLong(text.substring(2), 16);
            } else if (text.length() > 1 && text.startsWith("0")) {
                v = Long.parseLong(text, 8);
            } else {
                v = Long.parseLong(text);
            }
            if (v > 0xffffffffL) throw new NumberFormatException();
            return v;
        } catch (NumberFormatException e) {
            throw new FilterSyntaxException(expr, col, "number " + text + " is invalid or too large (expected: 0..4294967295)");
        }
    }

    static boolean validV6(String s) {
        if (s.indexOf(':') < 0) return false;
        try {
            return java.net.InetAddress.ofLiteral(s) instanceof java.net.Inet6Address;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
