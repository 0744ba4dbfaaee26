package io.jnetmap.control;

import io.vertx.core.buffer.Buffer;

import java.util.Arrays;

/**
 * JSON written straight into a reusable byte array, for the large listings (a switch's 254 ports with
 * their counters): no tree of {@code JsonObject}s, no boxed counters, no intermediate {@code String};
 * the bytes are copied once, into the response's {@link Buffer}. One per event loop, reused request
 * after request ({@link #reset}); not thread-safe.
 *
 * <p>Commas are the writer's business: {@link #name} before each member of an object, values and
 * {@code begin*} calls in arrays, and the writer puts the separators.
 */
final class JsonOut {
    /** Most nesting: one bit per level says whether the level has a member already. */
    private static final int MAX_DEPTH = 62;

    private byte[] b;
    private int n;
    private int depth;
    /** Bit d set: level d has written a member, the next one needs a comma. */
    private long started;
    /** A name was just written: the value follows it without a comma. */
    private boolean afterName;

    JsonOut(int capacity) {
        b = new byte[Math.max(64, capacity)];
    }

    /** Empties the writer for a new document (keeps its array). */
    JsonOut reset() {
        n = 0;
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
        ensure(key.length);
        System.arraycopy(key, 0, b, n, key.length);
        n += key.length;
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
        if (v == Long.MIN_VALUE) {
            ascii("-9223372036854775808");
            return this;
        }
        if (v < 0) {
            put((byte) '-');
            v = -v;
        }
        int digits = 1;
        for (long t = v; t >= 10; t /= 10) {
            digits++;
        }
        ensure(digits);
        for (int i = n + digits - 1; i >= n; i--) {
            b[i] = (byte) ('0' + v % 10);
            v /= 10;
        }
        n += digits;
        return this;
    }

    /** The document so far plus a final newline, copied into a new buffer. */
    Buffer toBuffer() {
        if (depth != 0) {
            throw new IllegalStateException("JSON document not closed: depth=" + depth);
        }
        put((byte) '\n');
        return Buffer.buffer(n).appendBytes(b, 0, n);
    }

    /** The document so far, as text (for tests). */
    @Override
    public String toString() {
        return new String(b, 0, n, java.nio.charset.StandardCharsets.UTF_8);
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

    private void string(String s) {
        int len = s.length();
        ensure(len * 6 + 2); // worst case: every char escaped as backslash-u and four hex digits
        byte[] a = b;
        int o = n;
        a[o++] = '"';
        for (int i = 0; i < len; i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
                a[o++] = (byte) c;
            } else if (c == '"' || c == '\\') {
                a[o++] = '\\';
                a[o++] = (byte) c;
            } else if (c < 0x20) {
                a[o++] = '\\';
                a[o++] = 'u';
                a[o++] = '0';
                a[o++] = '0';
                a[o++] = (byte) HEX[c >> 4];
                a[o++] = (byte) HEX[c & 15];
            } else if (c < 0x800) {
                a[o++] = (byte) (0xc0 | c >> 6);
                a[o++] = (byte) (0x80 | c & 0x3f);
            } else if (Character.isHighSurrogate(c) && i + 1 < len && Character.isLowSurrogate(s.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, s.charAt(++i));
                a[o++] = (byte) (0xf0 | cp >> 18);
                a[o++] = (byte) (0x80 | cp >> 12 & 0x3f);
                a[o++] = (byte) (0x80 | cp >> 6 & 0x3f);
                a[o++] = (byte) (0x80 | cp & 0x3f);
            } else if (Character.isSurrogate(c)) {
                a[o++] = '\\'; // a lone surrogate has no UTF-8 form: escaped, as Jackson does
                a[o++] = 'u';
                a[o++] = (byte) HEX[c >> 12];
                a[o++] = (byte) HEX[c >> 8 & 15];
                a[o++] = (byte) HEX[c >> 4 & 15];
                a[o++] = (byte) HEX[c & 15];
            } else {
                a[o++] = (byte) (0xe0 | c >> 12);
                a[o++] = (byte) (0x80 | c >> 6 & 0x3f);
                a[o++] = (byte) (0x80 | c & 0x3f);
            }
        }
        a[o++] = '"';
        n = o;
    }

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private void ascii(String s) {
        ensure(s.length());
        for (int i = 0; i < s.length(); i++) {
            b[n++] = (byte) s.charAt(i);
        }
    }

    private void put(byte c) {
        ensure(1);
        b[n++] = c;
    }

    private void ensure(int more) {
        if (n + more > b.length) {
            b = Arrays.copyOf(b, Math.max(b.length * 2, n + more));
        }
    }
}
