package io.jnetmap.core;

import java.nio.ByteOrder;

/**
 * The first 8 bytes of a slot ({@code bufIdx}, {@code len}, {@code flags}, {@link SlotLayout}) as one
 * {@code long} in the host's byte order: forwarding loops read and write a slot with one memory access
 * instead of three (load it with {@code JAVA_LONG_UNALIGNED} at {@link SlotLayout#offset}). Every
 * method is a shift and a mask on a constant byte order, so the JIT folds it to what a hand-written
 * little-endian mask would be.
 */
public final class SlotWord {
    private static final boolean LE = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
    /** The bits of {@code bufIdx} in a slot word. */
    public static final long BUF_IDX_MASK = LE ? 0xffff_ffffL : 0xffff_ffff_0000_0000L;

    static {
        if (SlotLayout.BUF_IDX_OFFSET != 0 || SlotLayout.LEN_OFFSET != 4 || SlotLayout.FLAGS_OFFSET != 6) {
            throw new ExceptionInInitializerError("SlotWord assumes bufIdx at 0, len at 4, flags at 6");
        }
    }

    private SlotWord() {
    }

    /** The slot's {@code bufIdx} (u32, as an int). */
    public static int bufIdx(long w) {
        return LE ? (int) w : (int) (w >>> 32);
    }

    /** The slot's {@code len} (u16). */
    public static int len(long w) {
        return (int) (LE ? w >>> 32 : w >>> 16) & 0xffff;
    }

    /** The slot's NS_* {@code flags} (u16). */
    public static int flags(long w) {
        return (int) (LE ? w >>> 48 : w) & 0xffff;
    }

    /** A slot word holding {@code bufIdx}, {@code len} and {@code flags}. */
    public static long of(int bufIdx, int len, int flags) {
        return LE ? (bufIdx & 0xffffffffL) | (long) (len & 0xffff) << 32 | (long) (flags & 0xffff) << 48
                : (long) bufIdx << 32 | (long) (len & 0xffff) << 16 | (flags & 0xffff);
    }

    /** The bits NS_* {@code flags} occupy in a slot word: {@code (w & flagBits(F)) != 0} tests, {@code w | flagBits(F)} sets. */
    public static long flagBits(int flags) {
        return LE ? (long) (flags & 0xffff) << 48 : flags & 0xffff;
    }

    /** {@code w} with its {@code bufIdx} replaced; {@code len} and {@code flags} kept. */
    public static long withBufIdx(long w, int bufIdx) {
        return (w & ~BUF_IDX_MASK) | (LE ? bufIdx & 0xffffffffL : (long) bufIdx << 32);
    }

    /** {@code len} and {@code flags} as the 4 bytes at {@link SlotLayout#LEN_OFFSET}, read or written as one int. */
    public static int lenFlags(int len, int flags) {
        return LE ? (len & 0xffff) | flags << 16 : len << 16 | (flags & 0xffff);
    }
}
