package io.jnetmap.core;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A parsed port name, netmap's syntax (netmap(4), libnetmap):
 *
 * <pre>
 *   name    := body [mode] ['/' flags] {'@' option}
 *   body    := 'netmap:' IFNAME          NIC (and host stack) of interface IFNAME
 *            | 'vale' [SW] ':' PORT      port PORT of switch "valeSW" ("vale" is the default switch)
 *            | PARENT                    a bare name, only as the parent of a pipe ("pipe{1")
 *            | KIND ':' SPEC             a port kind with a syntax of its own (KIND one of {@link #SPEC_KINDS});
 *                                        SPEC runs to the first '@' and is the kind's to parse
 *   mode    := '-' N                     NIC ring pair N only
 *            | '^' [N]                   host-stack rings (all, or pair N)         netmap: only
 *            | '*'                       NIC and host-stack rings                  netmap: only
 *            | '{' ID | '}' ID           master / slave end of pipe ID under the body
 *   flags   := one or more of r t z x R T  (copy monitor of RX / TX, zero-copy monitor, exclusive,
 *                                          bind only RX rings, only TX rings)
 *   option  := 'conf:' KEY '=' N {',' KEY '=' N}   ring geometry for ports this open creates
 *                                          ({@code pipes=}: how many pipes a new pipe parent holds)
 *            | 'share=' PORT             open in the same memory region as open port PORT
 *            | 'backend=' WORD           NIC backend choice (xdp, packet)
 *            | 'vnet=' 0|10|12           bytes of virtio-net header (offload metadata) in front of each frame
 *            | 'backpressure=' WORD      switch ports: on = wait for room instead of dropping
 *   IFNAME, SW, PORT, PARENT, ID: [A-Za-z0-9_]+ (IFNAME also '.'); N: decimal
 * </pre>
 *
 * Parsing never throws anything but {@link PortNameException}, which says what was expected and at
 * which character.
 */
public record PortName(String text, Body body, String switchName, String base, Mode mode, int ringId,
                       String pipeId, int flags, Map<String, Integer> conf, Map<String, String> options) {

    /** What the part before the mode names. */
    public enum Body { NETMAP, VALE, BARE, SPEC }

    /** Kinds named {@code KIND:SPEC}, whose SPEC (in {@link #base()}) their own module parses. */
    public static final List<String> SPEC_KINDS = List.of("vxlan", "vhost");

    /** Which rings (or which pipe end) the open binds, netmap's {@code nr_mode}. */
    public enum Mode { ALL_NIC, ONE_NIC, SW, ONE_SW, NIC_SW, PIPE_MASTER, PIPE_SLAVE }

    /** Flag {@code r}: copy monitor of the RX side. */
    public static final int MONITOR_RX = 0x1;
    /** Flag {@code t}: copy monitor of the TX side. */
    public static final int MONITOR_TX = 0x2;
    /** Flag {@code z}: zero-copy monitor, of both sides, or with {@code r}/{@code t} of that side only ({@code /zr}, {@code /zt}). */
    public static final int ZCOPY_MONITOR = 0x4;
    /** Flag {@code x}: exclusive open. */
    public static final int EXCLUSIVE = 0x8;
    /** Flag {@code R}: bind only RX rings. */
    public static final int RX_RINGS_ONLY = 0x10;
    /** Flag {@code T}: bind only TX rings. */
    public static final int TX_RINGS_ONLY = 0x20;

    /** Keys accepted after {@code @conf:}. */
    public static final List<String> CONF_KEYS = List.of("rings", "tx-rings", "rx-rings", "host-rings",
            "host-tx-rings", "host-rx-rings", "slots", "tx-slots", "rx-slots", "extra-bufs", "buf-size", "bufs", "pipes");
    /** Options accepted after {@code @} besides {@code conf:}. */
    public static final List<String> OPTION_KEYS = List.of("share", "backend", "backpressure", "vnet");
    private static final List<String> OPTION_KEYS_AND_CONF = java.util.stream.Stream.concat(
            java.util.stream.Stream.of("conf"), OPTION_KEYS.stream()).toList();

    private static final String FLAG_CHARS = "rtzxRT";
    private static final int[] FLAG_BITS = {MONITOR_RX, MONITOR_TX, ZCOPY_MONITOR, EXCLUSIVE, RX_RINGS_ONLY, TX_RINGS_ONLY};

    public PortName {
        conf = Collections.unmodifiableMap(new LinkedHashMap<>(conf));
        options = Collections.unmodifiableMap(new LinkedHashMap<>(options));
    }

    /** Parses {@code text}; throws {@link PortNameException} naming the position and what was expected. */
    public static PortName parse(String text) {
        if (text == null) {
            throw new PortNameException("null", 0, "a port name, not null");
        }
        return new Parser(text).parse();
    }

    /**
     * The kind of port this name opens, which selects the provider: {@code "monitor"} for monitor
     * flags (on any port, pipe ends included), {@code "pipe"} for a pipe end, else {@code "vale"} or
     * {@code "netmap"}.
     */
    public String kind() {
        if ((flags & (MONITOR_RX | MONITOR_TX | ZCOPY_MONITOR)) != 0) {
            return "monitor"; // a monitor of any port, pipe ends included ("pipe{1/t")
        }
        if (mode == Mode.PIPE_MASTER || mode == Mode.PIPE_SLAVE) {
            return "pipe";
        }
        if (body == Body.SPEC) {
            return switchName; // the KIND of KIND:SPEC
        }
        return body == Body.VALE ? "vale" : "netmap";
    }

    /** The body alone: {@code netmap:eth0}, {@code vale0:a}, {@code pipe}. */
    public String parent() {
        return switch (body) {
            case NETMAP -> "netmap:" + base;
            case VALE -> switchName + ":" + base;
            case BARE -> base;
            case SPEC -> switchName + ":" + base;
        };
    }

    /** For a monitor: the name of the port it watches, without flags and options ({@code netmap:eth0-1}). */
    public String monitored() {
        String s = withoutOptions();
        int slash = s.indexOf('/');
        return slash < 0 ? s : s.substring(0, slash);
    }

    /** The name without options: the key under which an open port is known in this process. */
    public String withoutOptions() {
        int at = text.indexOf('@');
        return at < 0 ? text : text.substring(0, at);
    }

    public boolean isPipe() {
        return mode == Mode.PIPE_MASTER || mode == Mode.PIPE_SLAVE;
    }

    public boolean hasFlag(int flag) {
        return (flags & flag) != 0;
    }

    /** A {@code @conf:} value, or {@code dflt}. */
    public int conf(String key, int dflt) {
        if (!CONF_KEYS.contains(key)) {
            throw new IllegalArgumentException("conf key " + key + " (expected one of " + CONF_KEYS + ")");
        }
        Integer v = conf.get(key);
        return v != null ? v : dflt;
    }

    /** The first present key of {@code keys} in {@code @conf:}, or {@code dflt} ({@code conf("tx-slots", "slots", 1024)}). */
    public int conf(String key, String fallbackKey, int dflt) {
        return conf(key, conf(fallbackKey, dflt));
    }

    /** Bytes of virtio-net header in front of each frame ({@code @vnet=0|10|12}); 0 without the option. */
    public int vnetHdrLen() {
        String v = options.get("vnet");
        return v == null ? 0 : Integer.parseInt(v);
    }

    /** An {@code @key=value} option, or null. */
    public String option(String key) {
        return options.get(key);
    }

    @Override
    public String toString() {
        return text;
    }

    private static final class Parser {
        private final String s;
        private int p;

        Parser(String s) {
            this.s = s;
        }

        private PortNameException error(String expected) {
            return new PortNameException(s, p, expected);
        }

        private boolean at(char c) {
            return p < s.length() && s.charAt(p) == c;
        }

        private static boolean wordChar(char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        }

        private String word(String what, boolean dots) {
            int start = p;
            while (p < s.length() && (wordChar(s.charAt(p)) || (dots && s.charAt(p) == '.'))) {
                p++;
            }
            if (p == start) {
                throw error(what);
            }
            return s.substring(start, p);
        }

        private int number(String what) {
            int start = p;
            while (p < s.length() && Character.isDigit(s.charAt(p)) && s.charAt(p) < 128) {
                p++;
            }
            if (p == start) {
                throw error(what);
            }
            if (p - start > 9) {
                p = start;
                throw error(what + " below 1000000000");
            }
            return Integer.parseInt(s, start, p, 10);
        }

        PortName parse() {
            Body body;
            String sw = null;
            String base;
            if (s.startsWith("netmap:")) {
                body = Body.NETMAP;
                p = 7;
                base = word("an interface name ([A-Za-z0-9_.]+) after 'netmap:'", true);
            } else if (s.startsWith("vale")) {
                int colon = s.indexOf(':');
                p = 4;
                while (p < s.length() && wordChar(s.charAt(p))) {
                    p++;
                }
                if (colon < 0 || colon != p) {
                    // not a switch name after all: a bare pipe parent such as "valet{1"
                    p = 0;
                    body = Body.BARE;
                    base = word("a name", false);
                } else {
                    body = Body.VALE;
                    sw = s.substring(0, p);
                    p++;
                    base = word("a switch port name ([A-Za-z0-9_]+) after '" + sw + ":'", false);
                }
            } else if (s.indexOf(':') > 0 && SPEC_KINDS.contains(s.substring(0, s.indexOf(':')))) {
                body = Body.SPEC;
                sw = s.substring(0, s.indexOf(':'));
                p = sw.length() + 1;
                int end = s.indexOf('@', p);
                base = s.substring(p, end < 0 ? s.length() : end);
                if (base.isEmpty()) {
                    throw error("a " + sw + " port specification after '" + sw + ":'");
                }
                p += base.length();
            } else {
                body = Body.BARE;
                base = word("'netmap:IF', 'valeS:P' or a pipe parent name ([A-Za-z0-9_]+)", false);
                if (at(':')) {
                    throw error("'{ID' or '}ID' (unknown port kind \"" + base + ":\"; known: netmap:, valeS:, "
                            + String.join(":, ", SPEC_KINDS) + ":)");
                }
            }

            Mode mode = Mode.ALL_NIC;
            int ringId = -1;
            String pipeId = null;
            if (at('-')) {
                p++;
                ringId = number("a ring number after '-'");
                mode = Mode.ONE_NIC;
            } else if (at('^') || at('*')) {
                if (body != Body.NETMAP) {
                    throw error("'-N', '{ID', '}ID', '/' or '@' (host-stack rings '^' and '*' exist only on netmap: ports)");
                }
                if (at('*')) {
                    p++;
                    mode = Mode.NIC_SW;
                } else {
                    p++;
                    if (p < s.length() && Character.isDigit(s.charAt(p))) {
                        ringId = number("a host ring number after '^'");
                        mode = Mode.ONE_SW;
                    } else {
                        mode = Mode.SW;
                    }
                }
            } else if (at('{') || at('}')) {
                mode = at('{') ? Mode.PIPE_MASTER : Mode.PIPE_SLAVE;
                p++;
                pipeId = word("a pipe id ([A-Za-z0-9_]+) after '" + s.charAt(p - 1) + "'", false);
            } else if (body == Body.BARE) {
                throw error("'{ID' or '}ID' after the bare name \"" + base
                        + "\" (a bare name is only a pipe parent; ports are 'netmap:IF' or 'valeS:P')");
            }

            int flags = 0;
            if (at('/')) {
                p++;
                int start = p;
                while (p < s.length() && s.charAt(p) != '@') {
                    int k = FLAG_CHARS.indexOf(s.charAt(p));
                    if (k < 0) {
                        throw error("a flag, one of r (monitor rx), t (monitor tx), z (zero-copy monitor), "
                                + "x (exclusive), R (rx rings only), T (tx rings only)");
                    }
                    if ((flags & FLAG_BITS[k]) != 0) {
                        throw error("each flag once ('" + s.charAt(p) + "' is repeated)");
                    }
                    flags |= FLAG_BITS[k];
                    p++;
                }
                if (p == start) {
                    throw error("flags after '/' (r, t, z, x, R, T)");
                }
                if ((flags & RX_RINGS_ONLY) != 0 && (flags & TX_RINGS_ONLY) != 0) {
                    p = start;
                    throw error("at most one of 'R' (rx rings only) and 'T' (tx rings only)");
                }
            } else if (p < s.length() && s.charAt(p) != '@') {
                throw error(expectedAfterBody(body, mode));
            }

            Map<String, Integer> conf = new LinkedHashMap<>();
            Map<String, String> options = new LinkedHashMap<>();
            while (p < s.length()) {
                if (!at('@')) {
                    throw error("'@' before the next option");
                }
                p++;
                if (s.startsWith("conf:", p)) {
                    p += 5;
                    parseConf(conf);
                } else {
                    int keyStart = p;
                    String key = key(OPTION_KEYS_AND_CONF,
                            "an option: conf:KEY=N,..., share=PORT, backend=WORD, backpressure=on|off or vnet=0|10|12");
                    if (key.equals("conf")) {
                        throw error("':' after \"conf\" (conf:KEY=N,...)");
                    }
                    if (options.containsKey(key)) {
                        p = keyStart;
                        throw error("each option once (\"" + key + "\" is repeated)");
                    }
                    if (!at('=')) {
                        throw error("'=' after option \"" + key + "\"");
                    }
                    p++;
                    int valueStart = p;
                    while (p < s.length() && s.charAt(p) != '@') {
                        p++;
                    }
                    String value = s.substring(valueStart, p);
                    if (value.isEmpty()) {
                        throw error("a value for option \"" + key + "\"");
                    }
                    if (key.equals("share")) {
                        try {
                            PortName.parse(value);
                        } catch (PortNameException e) {
                            p = valueStart + e.position();
                            throw error("a port name after 'share=': " + e.expected());
                        }
                    } else if (key.equals("vnet") && !value.equals("0") && !value.equals("10") && !value.equals("12")) {
                        p = valueStart;
                        throw error("0, 10 or 12 (bytes of virtio-net header per frame) as the value of \"vnet\"");
                    } else {
                        for (int i = 0; i < value.length(); i++) {
                            if (!wordChar(value.charAt(i))) {
                                p = valueStart + i;
                                throw error("a word ([A-Za-z0-9_]+) as the value of \"" + key + "\"");
                            }
                        }
                    }
                    options.put(key, value);
                }
            }
            return new PortName(s, body, sw, base, mode, ringId, pipeId, flags, conf, options);
        }

        /**
         * Reads a key of {@code known} ([a-z-]+). An unknown key is reported where it starts; a known key
         * (or the start of one) followed by a stray character is reported at that character.
         */
        private String key(List<String> known, String expected) {
            int start = p;
            while (p < s.length() && ((s.charAt(p) >= 'a' && s.charAt(p) <= 'z') || s.charAt(p) == '-')) {
                p++;
            }
            String key = s.substring(start, p);
            boolean stray = p < s.length() && s.charAt(p) != '=' && s.charAt(p) != ':' && s.charAt(p) != ','
                    && s.charAt(p) != '@';
            if (known.contains(key) && !stray) {
                return key;
            }
            boolean prefix = known.stream().anyMatch(k -> k.startsWith(key) && !k.equals(key)) || known.contains(key);
            if (!(prefix && stray)) {
                p = start;
            }
            throw error(expected + (key.isEmpty() || (prefix && stray) ? "" : " (not \"" + key + "\")"));
        }

        private void parseConf(Map<String, Integer> conf) {
            do {
                int keyStart = p;
                String key = key(CONF_KEYS, "a conf key, one of " + String.join(", ", CONF_KEYS));
                if (conf.containsKey(key)) {
                    p = keyStart;
                    throw error("each conf key once (\"" + key + "\" is repeated)");
                }
                if (!at('=')) {
                    throw error("'=' after conf key \"" + key + "\"");
                }
                p++;
                int v = number("a number for conf key \"" + key + "\"");
                conf.put(key, v);
            } while (at(',') && ++p > 0);
            if (p < s.length() && !at('@')) {
                throw error("',' or '@' or the end after a conf value");
            }
        }

        private static String expectedAfterBody(Body body, Mode mode) {
            if (mode == Mode.PIPE_MASTER || mode == Mode.PIPE_SLAVE) {
                return "'/' flags, '@' options or the end after the pipe id";
            }
            if (mode != Mode.ALL_NIC) {
                return "'/' flags, '@' options or the end after the ring selector";
            }
            return body == Body.NETMAP
                    ? "'-N', '^', '^N', '*', '{ID', '}ID', '/' flags, '@' options or the end"
                    : "'-N', '{ID', '}ID', '/' flags, '@' options or the end";
        }
    }
}
