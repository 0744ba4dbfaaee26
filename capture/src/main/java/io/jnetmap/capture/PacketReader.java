package io.jnetmap.capture;

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
 */
public final class PacketReader implements AutoCloseable {
    public enum Format { PCAP, PCAPNG }

    private static final int PCAP_MAGIC_US = 0xa1b2c3d4, PCAP_MAGIC_NS = 0xa1b23c4d;
    private static final int SHB = 0x0a0d0d0a, IDB = 1, PB = 2, SPB = 3, EPB = 6, BOM = 0x1a2b3c4d;
    private static final int MAX_BLOCK = 64 << 20;

    private final ReadableByteChannel ch;
    private ByteBuffer buf;
    private MemorySegment seg;
    private long bufFileOffset; // file offset of buf position 0
    private final Format format;
    private int linktype;
    private int snaplen;
    private boolean nanos;
    // pcapng interfaces
    private final List<long[]> ifaces = new ArrayList<>(); // {linktype, snaplen, unitsPerSecond}
    private final List<String> ifNames = new ArrayList<>();
    private boolean eof;

    // the current packet
    private long pktOff;
    private int caplen;
    private int wirelen;
    private long tsNanos;
    private int ifIndex;
    private long packetFileOffset;

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

    public PacketReader(ReadableByteChannel ch) throws IOException {
        this.ch = ch;
        buf = ByteBuffer.allocateDirect(1 << 20);
        seg = MemorySegment.ofBuffer(buf.duplicate().clear());
        buf.limit(0);
        if (!fill(4)) throw new CaptureFileException(0, "not a pcap or pcapng file: shorter than 4 bytes");
        int magicBe = buf.order(ByteOrder.BIG_ENDIAN).getInt(0);
        int magicLe = Integer.reverseBytes(magicBe);
        if (magicBe == SHB) {
            format = Format.PCAPNG;
            readBlockNg(true);
        } else if (magicBe == PCAP_MAGIC_US || magicBe == PCAP_MAGIC_NS || magicLe == PCAP_MAGIC_US || magicLe == PCAP_MAGIC_NS) {
            format = Format.PCAP;
            ByteOrder o = magicBe == PCAP_MAGIC_US || magicBe == PCAP_MAGIC_NS ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
            buf.order(o);
            nanos = (o == ByteOrder.BIG_ENDIAN ? magicBe : magicLe) == PCAP_MAGIC_NS;
            if (!fill(24)) throw new CaptureFileException(bufFileOffset + buf.remaining(), "truncated pcap file header (expected: 24 bytes)");
            int p = buf.position();
            snaplen = buf.getInt(p + 16);
            linktype = buf.getInt(p + 20) & 0x0fffffff;
            buf.position(p + 24);
        } else {
            throw new CaptureFileException(0, String.format("not a pcap or pcapng file: magic 0x%08x", magicBe));
        }
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

    /** Ensures n bytes from position are in the buffer; false if the file ends first. */
    private boolean fill(int n) throws IOException {
        if (buf.remaining() >= n) return true;
        if (eof) return false;
        if (n > buf.capacity()) {
            ByteBuffer bigger = ByteBuffer.allocateDirect(Math.max(n, buf.capacity() * 2)).order(buf.order());
            bigger.put(buf);
            bigger.flip();
            buf = bigger;
            seg = MemorySegment.ofBuffer(buf.duplicate().clear());
        }
        bufFileOffset += buf.position();
        buf.compact();
        while (buf.position() < n) {
            int r = ch.read(buf);
            if (r < 0) {
                eof = true;
                break;
            }
        }
        buf.flip();
        return buf.remaining() >= n;
    }

    /** Moves to the next packet; false at the end of the file. */
    public boolean next() throws IOException {
        return format == Format.PCAP ? nextPcap() : nextNg();
    }

    private boolean nextPcap() throws IOException {
        long at = bufFileOffset + buf.position();
        if (!fill(16)) {
            if (buf.remaining() == 0) return false;
            throw new CaptureFileException(at, "truncated packet record header (" + buf.remaining() + " of 16 bytes)");
        }
        int p = buf.position();
        long sec = buf.getInt(p) & 0xffffffffL;
        long frac = buf.getInt(p + 4) & 0xffffffffL;
        int cap = buf.getInt(p + 8);
        int len = buf.getInt(p + 12);
        if (cap < 0 || cap > MAX_BLOCK) {
            throw new CaptureFileException(at, "corrupt packet record: caplen " + Integer.toUnsignedString(cap));
        }
        if (!fill(16 + cap)) {
            throw new CaptureFileException(at, "truncated packet: record says " + cap + " bytes, the file has " + (buf.remaining() - 16));
        }
        p = buf.position();
        packetFileOffset = at;
        pktOff = p + 16;
        caplen = cap;
        wirelen = len;
        tsNanos = sec * 1_000_000_000L + (nanos ? frac : frac * 1000);
        ifIndex = 0;
        buf.position(p + 16 + cap);
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
        long at = bufFileOffset + buf.position();
        if (!fill(12)) {
            if (buf.remaining() == 0 && !first) return -1;
            throw new CaptureFileException(at, "truncated block header (" + buf.remaining() + " of 12 bytes)");
        }
        int p = buf.position();
        int type = buf.getInt(p);
        if (type == SHB) {
            int bom = buf.order(ByteOrder.BIG_ENDIAN).getInt(p + 8);
            if (bom == BOM) {
                buf.order(ByteOrder.BIG_ENDIAN);
            } else if (Integer.reverseBytes(bom) == BOM) {
                buf.order(ByteOrder.LITTLE_ENDIAN);
            } else {
                throw new CaptureFileException(at + 8, String.format("corrupt section header: byte-order magic 0x%08x", bom));
            }
            ifaces.clear();
            ifNames.clear();
        } else if (first) {
            throw new CaptureFileException(at, "pcapng file does not start with a section header block");
        }
        int total = buf.getInt(p + 4);
        if (total < 12 || (total & 3) != 0 || total > MAX_BLOCK) {
            throw new CaptureFileException(at + 4, "corrupt block length " + Integer.toUnsignedString(total));
        }
        if (!fill(total)) {
            throw new CaptureFileException(at, "truncated block: length " + total + ", the file has " + buf.remaining());
        }
        p = buf.position();
        if (buf.getInt(p + total - 4) != total) {
            throw new CaptureFileException(at + total - 4, "corrupt block: trailing length " + buf.getInt(p + total - 4) + " differs from " + total);
        }
        int result = 0;
        switch (type) {
            case IDB -> {
                if (total < 20) throw new CaptureFileException(at, "corrupt interface description block");
                long units = 1_000_000;
                String name = null;
                int o = p + 16, end = p + total - 4;
                while (o + 4 <= end) {
                    int code = buf.getShort(o) & 0xffff, olen = buf.getShort(o + 2) & 0xffff;
                    if (code == 0) break;
                    if (o + 4 + olen > end) throw new CaptureFileException(bufFileOffset + o, "corrupt option length " + olen);
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
                ifaces.add(new long[] {buf.getShort(p + 8) & 0xffff, buf.getInt(p + 12) & 0xffffffffL, units});
                ifNames.add(name);
                nanos |= units >= 1_000_000_000L;
            }
            case EPB, PB -> {
                if (total < 32) throw new CaptureFileException(at, "corrupt packet block: length " + total);
                int iface = type == EPB ? buf.getInt(p + 8) : buf.getShort(p + 8) & 0xffff;
                if (iface < 0 || iface >= ifaces.size()) {
                    throw new CaptureFileException(at + 8, "packet block names interface " + Integer.toUnsignedString(iface) + " (expected: < " + ifaces.size() + ")");
                }
                long ts = (buf.getInt(p + 12) & 0xffffffffL) << 32 | buf.getInt(p + 16) & 0xffffffffL;
                int cap = buf.getInt(p + 20);
                if (cap < 0 || 28 + cap + 4 > total) {
                    throw new CaptureFileException(at + 20, "corrupt packet block: captured length " + Integer.toUnsignedString(cap) + " exceeds block length " + total);
                }
                setPacket(at, p + 28, cap, buf.getInt(p + 24), ts, iface);
                result = 1;
            }
            case SPB -> {
                if (ifaces.isEmpty()) throw new CaptureFileException(at, "simple packet block before any interface");
                int len = buf.getInt(p + 8);
                int cap = (int) Math.min(Integer.toUnsignedLong(len), Math.min(total - 16, ifaces.get(0)[1] == 0 ? Integer.MAX_VALUE : ifaces.get(0)[1]));
                setPacket(at, p + 12, cap, len, 0, 0);
                result = 1;
            }
            default -> { } // unknown, statistics, name resolution...: skipped
        }
        buf.position(p + total);
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

    /** The memory holding the current packet (valid until the next call to {@link #next()}). */
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
        ch.close();
    }
}
