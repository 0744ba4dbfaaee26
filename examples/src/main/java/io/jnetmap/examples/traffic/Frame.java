package io.jnetmap.examples.traffic;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.nio.ByteOrder;
import java.util.HexFormat;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * The test frame pkt-gen sends, as netmap's pkt-gen does: Ethernet, IPv4 (checksummed), UDP, then a
 * payload whose first 8 bytes carry a sequence number and the next 8 a timestamp (for txseq/rxseq and
 * ping/pong). Writing one is a handful of 8-byte stores, no allocation.
 *
 * <pre>
 *   0 dst MAC   6 src MAC   12 ethertype 0x0800
 *  14 IPv4 header (20 bytes, no options)   src 10.0.0.1   dst 10.1.0.1
 *  34 UDP header (8 bytes)                 1234 -> 4321, checksum 0
 *  42 SEQ u64 big-endian   50 TIMESTAMP u64 big-endian   58 pattern ...
 * </pre>
 */
public final class Frame {
    public static final int MIN_LEN = 60;
    public static final int MAX_LEN = 65535;
    public static final int SEQ_OFFSET = 42;
    public static final int TIMESTAMP_OFFSET = 50;
    private static final ValueLayout.OfLong LONG_BE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong LONG_NATIVE = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final HexFormat MAC = HexFormat.ofDelimiter(":");

    private final byte[] bytes;
    /** The frame as 8-byte words in native order, for fast writes of short frames. */
    private final long[] words;
    /** The frame's last 8 bytes in native order. */
    private final long lastWord;

    /** A frame of {@code len} bytes from {@code srcMac} to {@code dstMac}, {@code srcIp} to {@code dstIp}. */
    public Frame(int len, byte[] srcMac, byte[] dstMac, byte[] srcIp, byte[] dstIp) {
        if (len < MIN_LEN || len > MAX_LEN) {
            throw new IllegalArgumentException("len=" + len + " (expected: " + MIN_LEN + ".." + MAX_LEN + ")");
        }
        byte[] b = new byte[len];
        System.arraycopy(dstMac, 0, b, 0, 6);
        System.arraycopy(srcMac, 0, b, 6, 6);
        b[12] = 0x08;
        b[13] = 0x00;
        b[14] = 0x45;
        putShort(b, 16, len - 14);
        b[22] = 64; // ttl
        b[23] = 17; // udp
        System.arraycopy(srcIp, 0, b, 26, 4);
        System.arraycopy(dstIp, 0, b, 30, 4);
        putShort(b, 24, ipChecksum(b, 14, 20));
        putShort(b, 34, 1234);
        putShort(b, 36, 4321);
        putShort(b, 38, len - 34);
        for (int i = 58; i < len; i++) {
            b[i] = (byte) ('a' + (i - 58) % 26);
        }
        this.bytes = b;
        MemorySegment segment = MemorySegment.ofArray(b);
        this.words = new long[(len + 7) / 8];
        MemorySegment w = MemorySegment.ofArray(words);
        MemorySegment.copy(segment, 0, w, 0, len);
        this.lastWord = segment.get(LONG_NATIVE, len - 8);
    }

    /** The default frame of {@code len} bytes: broadcast from 02:00:00:00:00:01, 10.0.0.1 to 10.1.0.1. */
    public static Frame standard(int len) {
        return new Frame(len, mac("02:00:00:00:00:01"), mac("ff:ff:ff:ff:ff:ff"), ip("10.0.0.1"), ip("10.1.0.1"));
    }

    public int length() {
        return bytes.length;
    }

    /** Writes the whole frame at {@code off} of {@code mem}. */
    public void writeTo(MemorySegment mem, long off) {
        long[] w = words;
        int full = bytes.length >>> 3;
        for (int i = 0; i < full; i++) {
            mem.set(LONG_NATIVE, off + ((long) i << 3), w[i]);
        }
        if ((bytes.length & 7) != 0) {
            // the last 8 bytes as one store that overlaps the previous word (frames are at least MIN_LEN long)
            mem.set(LONG_NATIVE, off + bytes.length - 8, lastWord);
        }
    }

    public static void writeSeq(MemorySegment mem, long frameOff, long seq) {
        mem.set(LONG_BE, frameOff + SEQ_OFFSET, seq);
    }

    /**
     * True if the {@code len} bytes at {@code frameOff} look like a frame pkt-gen wrote: IPv4, UDP from
     * port 1234 to 4321, long enough for the sequence number and timestamp; or one the Linux kernel's
     * {@code pktgen} wrote (IPv4, UDP, its magic {@code 0xbe9be955} where pkt-gen's number starts), so
     * that {@code rxseq} checks a kernel pktgen stream too (from a VM, say). Anything else a link
     * carries (IPv6 neighbour discovery when a veth comes up, ARP ...) is not sequence-checked.
     */
    public static boolean isOurs(MemorySegment mem, long frameOff, int len) {
        if (len < TIMESTAMP_OFFSET + 8
                || mem.get(JAVA_BYTE, frameOff + 12) != 0x08 || mem.get(JAVA_BYTE, frameOff + 13) != 0x00
                || mem.get(JAVA_BYTE, frameOff + 23) != 17) {
            return false;
        }
        return (mem.get(JAVA_BYTE, frameOff + 34) == (byte) (1234 >>> 8) && mem.get(JAVA_BYTE, frameOff + 35) == (byte) 1234
                && mem.get(JAVA_BYTE, frameOff + 36) == (byte) (4321 >>> 8) && mem.get(JAVA_BYTE, frameOff + 37) == (byte) 4321)
                || isKernelPktgen(mem, frameOff);
    }

    /** The magic the Linux kernel's pktgen writes at the start of its UDP payload, before its 32-bit sequence number. */
    public static final int KERNEL_PKTGEN_MAGIC = 0xbe9be955;

    private static boolean isKernelPktgen(MemorySegment mem, long frameOff) {
        return (int) (mem.get(LONG_BE, frameOff + SEQ_OFFSET) >>> 32) == KERNEL_PKTGEN_MAGIC;
    }

    /**
     * The sequence number of a frame {@link #isOurs} accepted: pkt-gen's 64-bit number, or the kernel
     * pktgen's 32-bit one less 1 (it numbers from 1, pkt-gen from 0).
     */
    public static long readSeq(MemorySegment mem, long frameOff) {
        long v = mem.get(LONG_BE, frameOff + SEQ_OFFSET);
        return (int) (v >>> 32) == KERNEL_PKTGEN_MAGIC ? (v & 0xffffffffL) - 1 : v;
    }

    public static void writeTimestamp(MemorySegment mem, long frameOff, long ns) {
        mem.set(LONG_BE, frameOff + TIMESTAMP_OFFSET, ns);
    }

    public static long readTimestamp(MemorySegment mem, long frameOff) {
        return mem.get(LONG_BE, frameOff + TIMESTAMP_OFFSET);
    }

    /** Swaps source and destination MAC and IPv4 addresses in place (pong's reply). */
    public static void swapAddresses(MemorySegment mem, long off) {
        for (int i = 0; i < 6; i++) {
            byte a = mem.get(JAVA_BYTE, off + i);
            mem.set(JAVA_BYTE, off + i, mem.get(JAVA_BYTE, off + 6 + i));
            mem.set(JAVA_BYTE, off + 6 + i, a);
        }
        for (int i = 0; i < 4; i++) {
            byte a = mem.get(JAVA_BYTE, off + 26 + i);
            mem.set(JAVA_BYTE, off + 26 + i, mem.get(JAVA_BYTE, off + 30 + i));
            mem.set(JAVA_BYTE, off + 30 + i, a);
        }
    }

    private static void putShort(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 8);
        b[off + 1] = (byte) v;
    }

    private static int ipChecksum(byte[] b, int off, int len) {
        long sum = 0;
        for (int i = 0; i < len; i += 2) {
            sum += ((b[off + i] & 0xff) << 8) | (b[off + i + 1] & 0xff);
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int) (~sum & 0xffff);
    }

    /** Parses {@code aa:bb:cc:dd:ee:ff} (JDK {@link HexFormat}: two hex digits per byte). */
    public static byte[] mac(String s) {
        try {
            byte[] b = MAC.parseHex(s);
            if (b.length == 6) {
                return b;
            }
        } catch (IllegalArgumentException notHexPairs) {
            // the message below says what was expected
        }
        throw new IllegalArgumentException("mac=" + s + " (expected: six hex bytes like 02:00:00:00:00:01)");
    }

    /** Parses a dotted IPv4 address ({@link Inet4Address#ofLiteral}: no name lookup). */
    public static byte[] ip(String s) {
        try {
            return Inet4Address.ofLiteral(s).getAddress();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("ip=" + s + " (expected: an IPv4 address like 10.0.0.1)");
        }
    }
}
