package io.jnetmap.vale;

import io.jnetmap.core.SlotLayout;

import java.nio.ByteOrder;

/**
 * The first 8 bytes of a slot ({@code bufIdx}, {@code len}, {@code flags}, {@link SlotLayout}) as one
 * word in the host's byte order: the forwarding loops read and write a slot with one memory access
 * instead of three.
 */
final class SlotWord {
    private static final boolean LE = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

    private SlotWord() {
    }

    static int bufIdx(long w) {
        return LE ? (int) w : (int) (w >>> 32);
    }

    static int len(long w) {
        return (int) (LE ? w >>> 32 : w >>> 16) & 0xffff;
    }

    static int flags(long w) {
        return (int) (LE ? w >>> 48 : w) & 0xffff;
    }

    static long of(int bufIdx, int len, int flags) {
        return LE ? (bufIdx & 0xffffffffL) | (long) (len & 0xffff) << 32 | (long) (flags & 0xffff) << 48
                : (long) bufIdx << 32 | (long) (len & 0xffff) << 16 | (flags & 0xffff);
    }

    /** {@code len} and {@code flags} as the 4 bytes at {@link SlotLayout#LEN_OFFSET}. */
    static int lenFlags(int len, int flags) {
        return LE ? (len & 0xffff) | flags << 16 : len << 16 | (flags & 0xffff);
    }

    static {
        if (SlotLayout.BUF_IDX_OFFSET != 0 || SlotLayout.LEN_OFFSET != 4 || SlotLayout.FLAGS_OFFSET != 6) {
            throw new ExceptionInInitializerError("SlotWord assumes bufIdx at 0, len at 4, flags at 6");
        }
    }
}
