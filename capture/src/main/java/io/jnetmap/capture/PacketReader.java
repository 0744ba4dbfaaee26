package io.jnetmap.capture;

import io.jnetmap.core.Ring;
import io.jnetmap.core.RingLayout;
import io.jnetmap.core.SlotCorruptedException;
import io.jnetmap.core.SlotLayout;
import io.jnetmap.core.SlotWord;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads pcap (either byte order, micro- or nanosecond) and pcapng (several interfaces, unknown blocks
 * skipped) as a stream: {@link #next()} moves to the next packet, whose bytes are at {@link #segment()}
 * {@link #offset()} until the following call. Nothing is allocated per packet. A truncated or corrupt file
 * throws {@link CaptureFileException} naming the byte offset, after every good packet before it.
 *
 * <p>The file is read with read(2) into a 256 KiB buffer (it grows to the largest block), so that what the kernel
 * copies is still in the core's cache when the records are parsed. Mapping the file instead was slower on a virtual
 * machine: a page fault per 64 KiB and a TLB miss per page (nested paging) cost more than the copy; mapped with
 * MAP_POPULATE and read a window ahead it only matched the copy (about 95 ns a packet for 500-byte packets on
 * /dev/shm, the kernel's copy nearly all of it, as for tcpdump).
 *
 * <p>Records are parsed with the direct buffer's absolute getters, not the segment's var handles: the first packets
 * run in the interpreter, where a var handle access is a chain of method handle calls (and its first use spins
 * classes), several microseconds a packet until the JIT has compiled the loop.
 */
public final class PacketReader implements AutoCloseable {
    public enum Format { PCAP, PCAPNG }

    private static final int PCAP_MAGIC_US = 0xa1b2c3d4, PCAP_MAGIC_NS = 0xa1b23c4d;
    private static final int SHB = 0x0a0d0d0a, IDB = 1, PB = 2, SPB = 3, EPB = 6, BOM = 0x1a2b3c4d;
    private static final int MAX_BLOCK = 64 << 20;
    private static final int BUFFER = 256 << 10;

    private final ReadableByteChannel ch;
    private ByteBuffer buf; // the channel's buffer, little-endian (its memory is seg); its limit stays its capacity
    private MemorySegment seg;
    private int pos; // next unread byte in buf
    private int lim; // end of the bytes held in buf
    private long segFileOffset; // file offset of buf[0]
    private boolean swapped; // the file's byte order is big-endian (the buffer's order stays little: the JIT folds it)
    private final Format format;
    private int linktype;
    private int snaplen;
    private boolean nanos;
    // pcapng interfaces
    private final List<long[]> ifaces = new ArrayList<>(); // {linktype, snaplen, unitsPerSecond}
    private final List<String> ifNames = new ArrayList<>();
    private boolean eof;
    private boolean closed;
    /** A corrupt record met by {@link #copyInto} after it had copied packets: thrown by the next call. */
    private CaptureFileException pending;
    private long copiedBytes;

    // the current packet
    private int pktOff;
    private int caplen;
    private int wirelen;
    private long tsNanos;
    private int ifIndex;
    private long packetFileOffset;

    /** Opens {@code file}. */
    public static PacketReader open(Path file) throws IOException {
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new java.nio.file.NoSuchFileException(file.toString(), null, "no such file");
        }
        try {
            return new PacketReader(ch);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** Reads {@code ch} as a stream. */
    public PacketReader(ReadableByteChannel ch) throws IOException {
        this.ch = ch;
        buf = ByteBuffer.allocateDirect(BUFFER).order(ByteOrder.LITTLE_ENDIAN);
        seg = MemorySegment.ofBuffer(buf);
        format = readHeader();
    }

    private Format readHeader() throws IOException {
        if (!fill(4)) throw new CaptureFileException(0, "not a pcap or pcapng file: shorter than 4 bytes");
        int magicLe = buf.getInt(pos);
        int magicBe = Integer.reverseBytes(magicLe);
        if (magicBe == SHB) {
            readBlockNg(true);
            return Format.PCAPNG;
        }
        if (magicBe == PCAP_MAGIC_US || magicBe == PCAP_MAGIC_NS || magicLe == PCAP_MAGIC_US || magicLe == PCAP_MAGIC_NS) {
            boolean big = magicBe == PCAP_MAGIC_US || magicBe == PCAP_MAGIC_NS;
            order(big);
            nanos = (big ? magicBe : magicLe) == PCAP_MAGIC_NS;
            if (!fill(24)) throw new CaptureFileException(segFileOffset + lim, "truncated pcap file header (expected: 24 bytes)");
            snaplen = i32(pos + 16);
            linktype = i32(pos + 20) & 0x0fffffff;
            pos += 24;
            return Format.PCAP;
        }
        throw new CaptureFileException(0, String.format("not a pcap or pcapng file: magic 0x%08x", magicBe));
    }

    private void order(boolean bigEndian) {
        swapped = bigEndian;
    }

    /** The file's 32-bit word at {@code off} of the held bytes. */
    private int i32(int off) {
        int v = buf.getInt(off);
        return swapped ? Integer.reverseBytes(v) : v;
    }

    /** The file's 16-bit word at {@code off}, unsigned. */
    private int u16(int off) {
        short v = buf.getShort(off);
        return (swapped ? Short.reverseBytes(v) : v) & 0xffff;
    }

    public Format format() {
        return format;
    }

    /** Link type of the file (pcap) or of interface 0 (pcapng). */
    public int linktype() {
        return format == Format.PCAP ? linktype : ifaces.isEmpty() ? 1 : (int) ifaces.get(0)[0];
    }

    public int snaplen() {
        return format == Format.PCAP ? snaplen : ifaces.isEmpty() ? 0 : (int) ifaces.get(0)[1];
    }

    public boolean nanosecond() {
        return nanos;
    }

    public int interfaces() {
        return format == Format.PCAP ? 1 : ifaces.size();
    }

    public String interfaceName(int i) {
        return format == Format.PCAP ? null : ifNames.get(i);
    }

    /** Bytes held from {@link #pos}. */
    private int remaining() {
        return lim - pos;
    }

    /** Ensures n bytes from pos are held; false if the file ends first. */
    private boolean fill(int n) throws IOException {
        if (lim - pos >= n) return true;
        if (eof) return false;
        int held = lim - pos;
        if (n > buf.capacity()) {
            ByteBuffer bigger = ByteBuffer.allocateDirect(Math.max(n, buf.capacity() * 2)).order(ByteOrder.LITTLE_ENDIAN);
            bigger.put(0, buf, pos, held);
            buf = bigger;
            seg = MemorySegment.ofBuffer(buf);
        } else if (held > 0 && pos > 0) {
            buf.put(0, buf, pos, held);
        }
        segFileOffset += pos;
        pos = 0;
        lim = held;
        buf.limit(buf.capacity()).position(held);
        while (buf.position() < n) {
            int r = ch.read(buf);
            if (r < 0) {
                eof = true;
                break;
            }
        }
        lim = buf.position();
        return lim >= n;
    }

    /** Moves to the next packet; false at the end of the file. */
    public boolean next() throws IOException {
        if (pending != null) throw pending;
        return format == Format.PCAP ? nextPcap() : nextNg();
    }

    /**
     * Copies the next packets, at most {@code max}, into the buffers of {@code ring}'s slots from {@code head} on
     * (slots the user owns, as a TX ring's from its head), each cut to the ring's buffer size, and sets each slot's
     * length (flags 0). The ring's head is left alone. Returns how many were copied, 0 at the end of the file; the
     * last one is then the current packet and {@link #copiedBytes()} has grown by their lengths. A corrupt or
     * truncated record ends a batch before it: the packets before it are returned, and the next call (or
     * {@link #next()}) throws {@link CaptureFileException}.
     *
     * <p>A pcap record held whole in the read buffer goes straight from it into the slot's buffer: one test of its
     * header a record, the slot word read and written as one access each; nothing is allocated. The rest (records
     * across a refill, pcapng blocks) goes through {@link #next()}.
     */
    public int copyInto(Ring ring, int head, int max) throws IOException {
        if (pending != null) throw pending;
        int numSlots = ring.numSlots();
        java.util.Objects.checkIndex(head, numSlots);
        if (max < 0 || max >= numSlots) throw new IllegalArgumentException("max=" + max + " (expected: 0.." + (numSlots - 1) + ")");
        MemorySegment dst = ring.memory();
        long slots = ring.offset() + RingLayout.SLOTS_OFFSET;
        int bufSize = ring.bufSize(), numBufs = ring.region().numBufs();
        long pool = ring.region().bufOffset(0);
        boolean pcap = format == Format.PCAP, sw = swapped;
        ByteBuffer b = buf;
        MemorySegment src = seg;
        int p = pos, end = lim, h = head, k = 0, last = -1;
        long bytes = 0;
        while (k < max) {
            int cap;
            long from;
            if (pcap && end - p >= 16
                    && Integer.compareUnsigned(cap = sw ? Integer.reverseBytes(b.getInt(p + 8)) : b.getInt(p + 8), end - p - 16) <= 0) {
                from = p + 16; // the whole record is held
                last = p;
                p += 16 + cap;
            } else { // refill, end of file, a corrupt record, or pcapng
                if (last >= 0) { // the packet before stays current if none follows (a refill moves its bytes)
                    currentPcap(last);
                    last = -1;
                }
                pos = p;
                try {
                    if (!next()) {
                        p = pos;
                        break;
                    }
                } catch (CaptureFileException e) {
                    p = pos;
                    if (k == 0) throw e;
                    pending = e;
                    break;
                }
                b = buf;
                src = seg;
                p = pos;
                end = lim;
                cap = caplen;
                from = pktOff;
                last = -1;
            }
            long so = slots + (long) h * SlotLayout.SIZE;
            int idx = dst.get(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, so + SlotLayout.BUF_IDX_OFFSET);
            if (Integer.compareUnsigned(idx, numBufs) >= 0) {
                pos = p;
                throw new SlotCorruptedException(ring + ": slot " + h + " holds bufIdx=" + Integer.toUnsignedString(idx)
                        + " (expected: 0.." + (numBufs - 1) + "): the ring's shared memory was overwritten");
            }
            int len = Math.min(cap, bufSize);
            MemorySegment.copy(src, from, dst, pool + (long) idx * bufSize, len);
            dst.set(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, so + SlotLayout.LEN_OFFSET, SlotWord.lenFlags(len, 0));
            bytes += len;
            h = h + 1 == numSlots ? 0 : h + 1;
            k++;
        }
        pos = p;
        copiedBytes += bytes;
        if (last >= 0) currentPcap(last); // the last packet came by the fast path: it is the current one
        return k;
    }

    /** Makes the pcap record held at {@code rec} the current packet. */
    private void currentPcap(int rec) {
        long sec = i32(rec) & 0xffffffffL;
        long frac = i32(rec + 4) & 0xffffffffL;
        packetFileOffset = segFileOffset + rec;
        pktOff = rec + 16;
        caplen = i32(rec + 8);
        wirelen = i32(rec + 12);
        tsNanos = sec * 1_000_000_000L + (nanos ? frac : frac * 1000);
        ifIndex = 0;
    }

    /** The sum of the lengths {@link #copyInto} has written into slots (each packet cut to the buffer size). */
    public long copiedBytes() {
        return copiedBytes;
    }

    private boolean nextPcap() throws IOException {
        if (lim - pos < 16 && !fill(16)) {
            if (remaining() == 0) return false;
            throw new CaptureFileException(segFileOffset + pos, "truncated packet record header (" + remaining() + " of 16 bytes)");
        }
        int p = pos;
        int cap = i32(p + 8);
        if (cap < 0 || cap > MAX_BLOCK) {
            throw new CaptureFileException(segFileOffset + p, "corrupt packet record: caplen " + Integer.toUnsignedString(cap));
        }
        if (lim - p < 16 + cap && !fill(16 + cap)) {
            throw new CaptureFileException(segFileOffset + pos, "truncated packet: record says " + cap + " bytes, the file has " + (remaining() - 16));
        }
        p = pos;
        long sec = i32(p) & 0xffffffffL;
        long frac = i32(p + 4) & 0xffffffffL;
        packetFileOffset = segFileOffset + p;
        pktOff = p + 16;
        caplen = cap;
        wirelen = i32(p + 12);
        tsNanos = sec * 1_000_000_000L + (nanos ? frac : frac * 1000);
        ifIndex = 0;
        pos = p + 16 + cap;
        return true;
    }

    private boolean nextNg() throws IOException {
        while (true) {
            int r = readBlockNg(false);
            if (r < 0) return false;
            if (r == 1) return true;
        }
    }

    /** Reads one block: -1 end of file, 1 a packet, 0 anything else. */
    private int readBlockNg(boolean first) throws IOException {
        long at = segFileOffset + pos;
        if (!fill(12)) {
            if (remaining() == 0 && !first) return -1;
            throw new CaptureFileException(at, "truncated block header (" + remaining() + " of 12 bytes)");
        }
        int p = pos;
        int type = i32(p);
        if (type == SHB || Integer.reverseBytes(type) == SHB) {
            int bom = Integer.reverseBytes(buf.getInt(p + 8));
            if (bom == BOM) {
                order(true);
            } else if (Integer.reverseBytes(bom) == BOM) {
                order(false);
            } else {
                throw new CaptureFileException(at + 8, String.format("corrupt section header: byte-order magic 0x%08x", bom));
            }
            type = SHB;
            ifaces.clear();
            ifNames.clear();
        } else if (first) {
            throw new CaptureFileException(at, "pcapng file does not start with a section header block");
        }
        int total = i32(p + 4);
        if (total < 12 || (total & 3) != 0 || total > MAX_BLOCK) {
            throw new CaptureFileException(at + 4, "corrupt block length " + Integer.toUnsignedString(total));
        }
        if (!fill(total)) {
            throw new CaptureFileException(at, "truncated block: length " + total + ", the file has " + remaining());
        }
        p = pos;
        if (i32(p + total - 4) != total) {
            throw new CaptureFileException(at + total - 4, "corrupt block: trailing length " + i32(p + total - 4) + " differs from " + total);
        }
        int result = 0;
        switch (type) {
            case IDB -> {
                if (total < 20) throw new CaptureFileException(at, "corrupt interface description block");
                long units = 1_000_000;
                String name = null;
                int o = p + 16, end = p + total - 4;
                while (o + 4 <= end) {
                    int code = u16(o), olen = u16(o + 2);
                    if (code == 0) break;
                    if (o + 4 + olen > end) throw new CaptureFileException(segFileOffset + o, "corrupt option length " + olen);
                    if (code == 9 && olen >= 1) {
                        int v = buf.get(o + 4) & 0xff;
                        if ((v & 0x80) != 0) {
                            units = (v & 0x7f) >= 63 ? Long.MAX_VALUE : 1L << (v & 0x7f);
                        } else {
                            units = 1;
                            for (int i = 0; i < v && units < 1_000_000_000_000_000L; i++) units *= 10;
                        }
                    } else if (code == 2) {
                        byte[] b = new byte[olen];
                        buf.get(o + 4, b);
                        name = new String(b, java.nio.charset.StandardCharsets.UTF_8).replace("\0", "");
                    }
                    o += 4 + ((olen + 3) & ~3);
                }
                ifaces.add(new long[] {u16(p + 8), i32(p + 12) & 0xffffffffL, units});
                ifNames.add(name);
                nanos |= units >= 1_000_000_000L;
            }
            case EPB, PB -> {
                if (total < 32) throw new CaptureFileException(at, "corrupt packet block: length " + total);
                int iface = type == EPB ? i32(p + 8) : u16(p + 8);
                if (iface < 0 || iface >= ifaces.size()) {
                    throw new CaptureFileException(at + 8, "packet block names interface " + Integer.toUnsignedString(iface) + " (expected: < " + ifaces.size() + ")");
                }
                long ts = (i32(p + 12) & 0xffffffffL) << 32 | i32(p + 16) & 0xffffffffL;
                int cap = i32(p + 20);
                if (cap < 0 || 28 + cap + 4 > total) {
                    throw new CaptureFileException(at + 20, "corrupt packet block: captured length " + Integer.toUnsignedString(cap) + " exceeds block length " + total);
                }
                setPacket(at, p + 28, cap, i32(p + 24), ts, iface);
                result = 1;
            }
            case SPB -> {
                if (ifaces.isEmpty()) throw new CaptureFileException(at, "simple packet block before any interface");
                int len = i32(p + 8);
                int cap = (int) Math.min(Integer.toUnsignedLong(len), Math.min(total - 16, ifaces.get(0)[1] == 0 ? Integer.MAX_VALUE : ifaces.get(0)[1]));
                setPacket(at, p + 12, cap, len, 0, 0);
                result = 1;
            }
            default -> { } // unknown, statistics, name resolution...: skipped
        }
        pos = p + total;
        return result;
    }

    private void setPacket(long at, int off, int cap, int len, long ts, int iface) {
        long units = ifaces.get(iface)[2];
        packetFileOffset = at;
        pktOff = off;
        caplen = cap;
        wirelen = len;
        ifIndex = iface;
        if (units == 1_000_000_000L) {
            tsNanos = ts;
        } else if (units == 1_000_000L) {
            tsNanos = ts * 1000;
        } else {
            tsNanos = (long) (ts / (double) units * 1e9);
        }
    }

    /** The memory holding the current packet (valid until the next call to {@link #next()}, and until {@link #close()}). */
    public MemorySegment segment() {
        return seg;
    }

    public long offset() {
        return pktOff;
    }

    public int caplen() {
        return caplen;
    }

    public int wirelen() {
        return wirelen;
    }

    public long timestampNanos() {
        return tsNanos;
    }

    public int interfaceIndex() {
        return ifIndex;
    }

    /** Byte offset in the file of the current packet's record. */
    public long fileOffset() {
        return packetFileOffset;
    }

    @Override
    public void close() throws IOException {
        if (closed) return;
        closed = true;
        ch.close();
    }
}
