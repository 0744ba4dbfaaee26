package io.jnetmap.vale;

import io.jnetmap.core.Slot;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * The packet a {@link LookupModule} decides about: a reusable view (one per forwarding thread, never
 * allocated per packet) of the first slot of a packet in its sender's buffer, with the source port,
 * the slot flags and the time of the batch. Read it, never write it: the bytes belong to the sender.
 *
 * <p>The accessors read network byte order at an offset from the start of the frame and do not check
 * it against {@link #length()}: a module checks the length before reading headers it needs.
 */
public final class Packet {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    MemorySegment mem;
    long offset;
    int len;
    int totalLen;
    int flags;
    int srcPort;
    int frags;
    long now;
    int cookie;
    /** The last lookup of this forwarding thread, for a module to reuse ({@link #setMemo}). */
    Object memoOwner;
    long memoKey;
    long memoVersion;
    long memoTime;
    int memoValue;

    /** Memory holding the frame (the sender's whole region). */
    public MemorySegment memory() {
        return mem;
    }

    /** Offset of the frame in {@link #memory()}. */
    public long offset() {
        return offset;
    }

    /** Bytes of the first slot: the headers a lookup may read. */
    public int length() {
        return len;
    }

    /** Bytes of the whole packet (all its slots). */
    public int totalLength() {
        return totalLen;
    }

    /** Slots the packet spans (1 unless {@link Slot#NS_MOREFRAG} chains them). */
    public int frags() {
        return frags;
    }

    /** {@code NS_*} flags of the first slot ({@link Slot}). */
    public int flags() {
        return flags;
    }

    /** Index of the port the packet comes from. */
    public int srcPort() {
        return srcPort;
    }

    /** {@link System#nanoTime()} at the start of the batch (a clock for aging; one read per batch). */
    public long now() {
        return now;
    }

    /** A value handed to {@link LookupModule#rewrite} for this packet (e.g. a next-hop index). */
    public void setCookie(int cookie) {
        this.cookie = cookie;
    }

    public int cookie() {
        return cookie;
    }

    // ----------------------------------------------------------------------------------------------
    // a one-entry memo per forwarding thread: the packet view is the thread's own, so a module may keep
    // the answer of its last lookup here and reuse it for the next packet (the learning bridge does,
    // for runs of packets to one destination) without sharing anything between threads

    /**
     * Keeps one answer for the next packets of this forwarding thread: {@code owner} (the module,
     * so that modules chained in one switch do not read each other's memo), the key it was for, the
     * module's {@link LookupModule#version()} and the {@link #now()} when it was made, and the answer.
     */
    public void setMemo(Object owner, long key, long version, long time, int value) {
        memoOwner = owner;
        memoKey = key;
        memoVersion = version;
        memoTime = time;
        memoValue = value;
    }

    /** Who kept the memo ({@link #setMemo}); null if nobody did on this thread. */
    public Object memoOwner() {
        return memoOwner;
    }

    public long memoKey() {
        return memoKey;
    }

    public long memoVersion() {
        return memoVersion;
    }

    public long memoTime() {
        return memoTime;
    }

    public int memoValue() {
        return memoValue;
    }

    public int u8(int at) {
        return mem.get(JAVA_BYTE, offset + at) & 0xff;
    }

    public int u16(int at) {
        return mem.get(U16, offset + at) & 0xffff;
    }

    public int u32(int at) {
        return mem.get(U32, offset + at);
    }

    public long u64(int at) {
        return mem.get(U64, offset + at);
    }

    /** The 48-bit MAC address at {@code at}, as the low 48 bits of a long (first octet highest). */
    public long mac(int at) {
        return readMac(mem, offset + at);
    }

    /** Destination MAC address (bytes 0..5). Buffers hold at least 64 bytes: the 8-byte read stays inside. */
    public long dstMac() {
        return mem.get(U64, offset) >>> 16;
    }

    /** Source MAC address (bytes 6..11). */
    public long srcMac() {
        return mem.get(U64, offset + 4) & 0xffffffffffffL;
    }

    /** The 48-bit MAC address at {@code off} of {@code m} (for {@link LookupModule#rewrite}). */
    public static long readMac(MemorySegment m, long off) {
        return ((long) (m.get(U16, off) & 0xffff) << 32) | (m.get(U32, off + 2) & 0xffffffffL);
    }

    /** Writes a 48-bit MAC address (the low 48 bits of {@code mac}) at {@code off} of {@code m}. */
    public static void writeMac(MemorySegment m, long off, long mac) {
        m.set(U16, off, (short) (mac >>> 32));
        m.set(U32, off + 2, (int) mac);
    }

    /** The big-endian u32 at {@code off} of {@code m}. */
    public static int readU32(MemorySegment m, long off) {
        return m.get(U32, off);
    }

    /** Writes {@code v} big-endian at {@code off} of {@code m}. */
    public static void writeU32(MemorySegment m, long off, int v) {
        m.set(U32, off, v);
    }

    /** Writes {@code v} big-endian at {@code off} of {@code m}. */
    public static void writeU64(MemorySegment m, long off, long v) {
        m.set(U64, off, v);
    }

    /** True if {@code mac} is a group (broadcast or multicast) address: the low bit of its first octet. */
    public static boolean isGroup(long mac) {
        return (mac & (1L << 40)) != 0;
    }

    /** {@code 02:00:00:00:00:01} style text of a 48-bit MAC. */
    public static String macToString(long mac) {
        StringBuilder b = new StringBuilder(17);
        for (int i = 5; i >= 0; i--) {
            int o = (int) (mac >>> (8 * i)) & 0xff;
            b.append(Character.forDigit(o >>> 4, 16)).append(Character.forDigit(o & 15, 16));
            if (i > 0) {
                b.append(':');
            }
        }
        return b.toString();
    }

    /** Parses {@code aa:bb:cc:dd:ee:ff} (or with '-'); throws {@link IllegalArgumentException} saying what was expected. */
    public static long parseMac(String text) {
        String[] parts = text.split("[:-]");
        if (parts.length != 6) {
            throw new IllegalArgumentException("mac=" + text + " (expected: six hex octets, aa:bb:cc:dd:ee:ff)");
        }
        long mac = 0;
        for (String p : parts) {
            if (p.isEmpty() || p.length() > 2) {
                throw new IllegalArgumentException("mac=" + text + " (expected: six hex octets, aa:bb:cc:dd:ee:ff)");
            }
            try {
                mac = mac << 8 | Integer.parseInt(p, 16);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("mac=" + text + " (expected: six hex octets, aa:bb:cc:dd:ee:ff)");
            }
        }
        return mac;
    }
}
