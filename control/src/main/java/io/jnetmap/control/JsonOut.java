package io.jnetmap.control;

import io.vertx.core.buffer.Buffer;

import java.util.Arrays;

/**
 * JSON written straight into a reusable byte array, for the large listings (a switch's 254 ports with
 * their counters) and the page's events: no tree of {@code JsonObject}s, no boxed counters, no
 * intermediate {@code String}; the bytes are copied once, into a pooled response buffer ({@link ReplyBuffers}). One per event loop, reused request
 * after request ({@link #reset}); not thread-safe.
 *
 * <p>Commas are the writer's business: {@link #name} before each member of an object, values and
 * {@code begin*} calls in arrays, and the writer puts the separators.
 */
final class JsonOut extends ByteOut {
    /** Most nesting: one bit per level says whether the level has a member already. */
    private static final int MAX_DEPTH = 62;

    private int depth;
    /** Bit d set: level d has written a member, the next one needs a comma. */
    private long started;
    /** A name was just written: the value follows it without a comma. */
    private boolean afterName;

    JsonOut(int capacity) {
        super(capacity);
    }

    /** Empties the writer for a new document (keeps its array). */
    JsonOut reset() {
        clear();
        depth = 0;
        started = 0;
        afterName = false;
        return this;
    }

    JsonOut beginObject() {
        return open('{');
    }

    JsonOut endObject() {
        return close('}');
    }

    JsonOut beginArray() {
        return open('[');
    }

    JsonOut endArray() {
        return close(']');
    }

    /** The name of the next member of the current object. */
    JsonOut name(String name) {
        separate();
        string(name);
        put((byte) ':');
        afterName = true;
        return this;
    }

    /** A member name encoded once ({@link #key}), for names written again and again. */
    JsonOut name(byte[] key) {
        separate();
        raw(key);
        afterName = true;
        return this;
    }

    /** {@code name} encoded for {@link #name(byte[])}: quoted, escaped, with its colon. */
    static byte[] key(String name) {
        JsonOut o = new JsonOut(name.length() * 6 + 3);
        o.string(name);
        o.put((byte) ':');
        return Arrays.copyOf(o.b, o.n);
    }

    JsonOut value(String s) {
        separate();
        if (s == null) {
            ascii("null");
        } else {
            string(s);
        }
        return this;
    }

    JsonOut value(boolean v) {
        separate();
        ascii(v ? "true" : "false");
        return this;
    }

    JsonOut value(long v) {
        separate();
        decimal(v);
        return this;
    }

    /** {@code k / 1000.0}, a double, as Jackson writes it ({@link ByteOut#thousandths}). */
    JsonOut valueThousandths(long k) {
        separate();
        thousandths(k);
        return this;
    }

    /** A MAC address as a string, {@code "02:00:00:00:00:0a"} (as {@code Packet.macToString}). */
    JsonOut valueMac(long mac) {
        separate();
        ensure(19);
        b[n++] = '"';
        for (int i = 5; i >= 0; i--) {
            int o = (int) (mac >>> (8 * i)) & 0xff;
            b[n++] = (byte) LOWER_HEX[o >>> 4];
            b[n++] = (byte) LOWER_HEX[o & 15];
            if (i > 0) {
                b[n++] = ':';
            }
        }
        b[n++] = '"';
        return this;
    }

    private static final char[] LOWER_HEX = "0123456789abcdef".toCharArray();

    /** Text outside the document (an event stream's {@code data: } before it), ASCII. */
    JsonOut text(String ascii) {
        ascii(ascii);
        return this;
    }

    /** Ends the document with a newline (a reply's last byte); refuses a document not closed. */
    JsonOut endDocument() {
        if (depth != 0) {
            throw new IllegalStateException("JSON document not closed: depth=" + depth);
        }
        put((byte) '\n');
        return this;
    }

    /** The document so far plus a final newline, copied into a new buffer. */
    Buffer toBuffer() {
        endDocument();
        return Buffer.buffer(n).appendBytes(b, 0, n);
    }

    private JsonOut open(char c) {
        separate();
        if (depth == MAX_DEPTH) {
            throw new IllegalStateException("JSON nesting deeper than " + MAX_DEPTH);
        }
        put((byte) c);
        depth++;
        started &= ~(1L << depth);
        return this;
    }

    private JsonOut close(char c) {
        if (depth == 0 || afterName) {
            throw new IllegalStateException("JSON " + c + " without its opening, or right after a name");
        }
        depth--;
        put((byte) c);
        return this;
    }

    private void separate() {
        if (afterName) {
            afterName = false;
            return;
        }
        long bit = 1L << depth;
        if ((started & bit) != 0) {
            put((byte) ',');
        }
        started |= bit;
    }

    /**
     * {@code s} quoted and escaped as Jackson (Vert.x's {@code encode()}) escapes it, then as UTF-8:
     * {@code "} and {@code \\} with a backslash, the five controls with short forms ({@code \b \t \n
     * \f \r}) so, the other controls as backslash-u-00XX (upper-case hex), everything else as it is.
     */
    private void string(String s) {
        int len = s.length();
        ensure(len * 6 + 2); // at most 6 bytes a char (a control as backslash-u and four digits): no check in the loop below
        byte[] a = b;
        a[n++] = '"';
        for (int i = 0; i < len; i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
                a[n++] = (byte) c;
            } else if (c == '"' || c == '\\') {
                put((byte) '\\');
                put((byte) c);
            } else if (c < 0x20) {
                char shortForm = switch (c) {
                    case '\b' -> 'b';
                    case '\t' -> 't';
                    case '\n' -> 'n';
                    case '\f' -> 'f';
                    case '\r' -> 'r';
                    default -> 0;
                };
                if (shortForm != 0) {
                    put((byte) '\\');
                    put((byte) shortForm);
                } else {
                    ascii("\\u00");
                    put((byte) HEX[c >> 4]);
                    put((byte) HEX[c & 15]);
                }
            } else if (Character.isSurrogate(c)) {
                i = surrogate(s, i);
            } else {
                utf8(c);
            }
        }
        put((byte) '"');
    }

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();
}
