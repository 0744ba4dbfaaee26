package io.jnetmap.control;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Text written straight into a reusable byte array: the common part of {@link JsonOut} and
 * {@link MetricsOut}. The array grows to the largest document written and stays; {@link #reset}
 * empties it for the next one. Strings go in as UTF-8, as {@code String.getBytes(UTF_8)} encodes them
 * (a lone surrogate becomes {@code ?}), so that a document equals, byte for byte, the one the same text
 * would have given through a {@code String}. Not thread-safe: one per event loop.
 */
abstract class ByteOut {
    byte[] b;
    int n;

    ByteOut(int capacity) {
        b = new byte[Math.max(64, capacity)];
    }

    /** Bytes written so far. */
    final int length() {
        return n;
    }

    /** The array holding the document in {@code [0, length())}; valid until the next write. */
    final byte[] array() {
        return b;
    }

    /** The document so far, as text (for tests and messages). */
    @Override
    public final String toString() {
        return new String(b, 0, n, StandardCharsets.UTF_8);
    }

    /** Empties the writer (keeps its array). */
    void clear() {
        n = 0;
    }

    /** Pre-encoded bytes, as they are. */
    final void raw(byte[] bytes) {
        ensure(bytes.length);
        System.arraycopy(bytes, 0, b, n, bytes.length);
        n += bytes.length;
    }

    /** Text known to be ASCII (numbers' words, fixed names). */
    final void ascii(String s) {
        int len = s.length();
        ensure(len);
        for (int i = 0; i < len; i++) {
            b[n++] = (byte) s.charAt(i);
        }
    }

    final void put(byte c) {
        ensure(1);
        b[n++] = c;
    }

    /** {@code v} in decimal, as {@link Long#toString(long)} writes it. */
    final void decimal(long v) {
        if (v == Long.MIN_VALUE) {
            ascii("-9223372036854775808");
            return;
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
    }

    /**
     * {@code k / 1000.0} as {@link Double#toString(double)} writes it (what Jackson writes for a double),
     * without the String for the common range; {@code k} is a whole number of thousandths.
     */
    final void thousandths(long k) {
        double d = k / 1000.0;
        if (k <= 0 || k >= 10_000_000_000L) { // zero, negative, 1e7 and beyond (scientific notation): the JDK's text
            ascii(Double.toString(d));
            return;
        }
        // 0.001 <= d < 1e7: the shortest decimal that rounds to d is k/1000 itself (two such decimals
        // differ by at least 0.001, far more than d's ulp), printed with its trailing zeros cut, at least one digit after '.'
        decimal(k / 1000);
        put((byte) '.');
        int frac = (int) (k % 1000);
        if (frac == 0) {
            put((byte) '0');
            return;
        }
        put((byte) ('0' + frac / 100));
        if (frac % 100 != 0) {
            put((byte) ('0' + frac / 10 % 10));
            if (frac % 10 != 0) {
                put((byte) ('0' + frac % 10));
            }
        }
    }

    /** One char of a string in UTF-8 ({@code c} is not a surrogate). */
    final void utf8(char c) {
        ensure(3);
        byte[] a = b;
        int o = n;
        if (c < 0x80) {
            a[o++] = (byte) c;
        } else if (c < 0x800) {
            a[o++] = (byte) (0xc0 | c >> 6);
            a[o++] = (byte) (0x80 | c & 0x3f);
        } else {
            a[o++] = (byte) (0xe0 | c >> 12);
            a[o++] = (byte) (0x80 | c >> 6 & 0x3f);
            a[o++] = (byte) (0x80 | c & 0x3f);
        }
        n = o;
    }

    /**
     * The char at {@code s[i]}, a surrogate: a pair as one 4-byte code point, a lone one as {@code ?}
     * (as the JDK's UTF-8 encoder replaces it). Returns the index of the last char consumed.
     */
    final int surrogate(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
            int cp = Character.toCodePoint(c, s.charAt(i + 1));
            ensure(4);
            b[n++] = (byte) (0xf0 | cp >> 18);
            b[n++] = (byte) (0x80 | cp >> 12 & 0x3f);
            b[n++] = (byte) (0x80 | cp >> 6 & 0x3f);
            b[n++] = (byte) (0x80 | cp & 0x3f);
            return i + 1;
        }
        put((byte) '?');
        return i;
    }

    final void ensure(int more) {
        if (n + more > b.length) {
            b = Arrays.copyOf(b, Math.max(b.length * 2, n + more));
        }
    }
}
