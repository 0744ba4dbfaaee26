package io.jnetmap.capture;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Writes pcap (micro- or nanosecond, native little-endian as tcpdump does) or pcapng (a section header, one
 * interface description per interface with if_name and if_tsresol, enhanced packet blocks, and at close an
 * interface statistics block per interface with the counters given to {@link #setStatistics}). Packets are
 * staged in one buffer and written with one write per {@link #flush()} or when it fills: nothing is allocated
 * per packet.
 */
public final class PacketWriter implements AutoCloseable {
    public enum Format { PCAP, PCAP_MICRO, PCAPNG }

    public static final int LINKTYPE_ETHERNET = 1;
    private static final int STAGING = 4 << 20;

    private final WritableByteChannel ch;
    private final Format format;
    private final int snaplen;
    private final int interfaces;
    private final ByteBuffer buf = ByteBuffer.allocateDirect(STAGING).order(ByteOrder.LITTLE_ENDIAN);
    private final MemorySegment staging = MemorySegment.ofBuffer(buf.duplicate().clear());
    private final long[][] stats; // per interface: received, dropped by kernel, accepted by filter, dropped by us, delivered
    private long packets;
    private long bytes;
    private long flushed;
    private boolean closed;

    public static PacketWriter create(Path file, Format format, int snaplen, List<String> interfaceNames) throws IOException {
        return new PacketWriter(FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING),
                format, snaplen, interfaceNames);
    }

    public PacketWriter(WritableByteChannel ch, Format format, int snaplen, List<String> interfaceNames) throws IOException {
        this(ch, format, snaplen, interfaceNames, List.of());
    }

    /**
     * As {@link #PacketWriter(WritableByteChannel, Format, int, List)}, with an {@code if_description} for
     * interface {@code i} from {@code descriptions.get(i)} where present and not null (pcapng only: pcap has
     * no room for it). Capture says there where the timestamps come from.
     */
    public PacketWriter(WritableByteChannel ch, Format format, int snaplen, List<String> interfaceNames, List<String> descriptions)
            throws IOException {
        if (snaplen < 1 || snaplen > 262144) throw new IllegalArgumentException("snaplen=" + snaplen + " (expected: 1..262144)");
        if (format != Format.PCAPNG && interfaceNames.size() > 1) {
            throw new IllegalArgumentException("interfaces=" + interfaceNames.size() + " (expected: 1 for pcap; use pcapng for several)");
        }
        this.ch = ch;
        this.format = format;
        this.snaplen = snaplen;
        this.interfaces = Math.max(1, interfaceNames.size());
        this.stats = new long[interfaces][5];
        if (format == Format.PCAPNG) {
            // section header block
            buf.putInt(0x0a0d0d0a).putInt(28).putInt(0x1a2b3c4d).putShort((short) 1).putShort((short) 0).putLong(-1L).putInt(28);
            for (int i = 0; i < interfaces; i++) {
                String name = i < interfaceNames.size() ? interfaceNames.get(i) : "if" + i;
                byte[] n = name.getBytes(StandardCharsets.UTF_8);
                String desc = i < descriptions.size() ? descriptions.get(i) : null;
                byte[] d = desc == null ? new byte[0] : desc.getBytes(StandardCharsets.UTF_8);
                if (n.length > 1024 || d.length > 1024) throw new IllegalArgumentException("interface name or description longer than 1024 bytes");
                int nameOpt = 4 + ((n.length + 3) & ~3);
                int descOpt = d.length == 0 ? 0 : 4 + ((d.length + 3) & ~3);
                int total = 16 + nameOpt + descOpt + 8 + 4 + 4;
                buf.putInt(1).putInt(total).putShort((short) LINKTYPE_ETHERNET).putShort((short) 0).putInt(snaplen);
                buf.putShort((short) 2).putShort((short) n.length).put(n);
                pad(n.length);
                if (d.length > 0) {
                    buf.putShort((short) 3).putShort((short) d.length).put(d); // if_description
                    pad(d.length);
                }
                buf.putShort((short) 9).putShort((short) 1).put((byte) 9).put((byte) 0).putShort((short) 0); // if_tsresol: 10^-9
                buf.putInt(0); // opt_endofopt
                buf.putInt(total);
            }
        } else {
            buf.putInt(format == Format.PCAP ? 0xa1b23c4d : 0xa1b2c3d4).putShort((short) 2).putShort((short) 4)
                    .putInt(0).putInt(0).putInt(snaplen).putInt(LINKTYPE_ETHERNET);
        }
    }

    private void pad(int len) {
        for (int i = len; (i & 3) != 0; i++) buf.put((byte) 0);
    }

    /** Appends one packet: {@code caplen} bytes at {@code off} of {@code packet}, cut to the snap length. */
    public void write(int iface, MemorySegment packet, long off, int caplen, int wirelen, long tsNanos) throws IOException {
        int cap = Math.min(caplen, snaplen);
        int need = format == Format.PCAPNG ? 32 + ((cap + 3) & ~3) : 16 + cap;
        if (buf.remaining() < need) {
            flush();
        }
        if (format == Format.PCAPNG) {
            int total = 32 + ((cap + 3) & ~3);
            buf.putInt(6).putInt(total).putInt(iface).putInt((int) (tsNanos >>> 32)).putInt((int) tsNanos).putInt(cap).putInt(wirelen);
            MemorySegment.copy(packet, off, staging, buf.position(), cap);
            buf.position(buf.position() + cap);
            pad(cap);
            buf.putInt(total);
        } else { // absolute puts and one position update: a record costs a few stores and the copy
            long sec = tsNanos / 1_000_000_000L;
            int ns = (int) (tsNanos - sec * 1_000_000_000L);
            int p = buf.position();
            buf.putInt(p, (int) sec).putInt(p + 4, format == Format.PCAP ? ns : ns / 1000).putInt(p + 8, cap).putInt(p + 12, wirelen);
            MemorySegment.copy(packet, off, staging, p + 16, cap);
            buf.position(p + 16 + cap);
        }
        packets++;
        bytes += cap;
        stats[iface][4]++;
    }

    /**
     * Counters the interface statistics block of {@code iface} carries at close (pcapng): packets received,
     * dropped by the kernel, accepted by the filter, dropped by jnetmap.
     */
    public void setStatistics(int iface, long received, long kernelDrops, long filterAccepted, long ourDrops) {
        stats[iface][0] = received;
        stats[iface][1] = kernelDrops;
        stats[iface][2] = filterAccepted;
        stats[iface][3] = ourDrops;
    }

    public long packets() {
        return packets;
    }

    public long bytes() {
        return bytes;
    }

    /** The file's size so far, what is staged included (tcpdump's {@code pcap_dump_ftell}, for {@code -C}). */
    public long size() {
        return flushed + buf.position();
    }

    /** Bytes staged and not yet written. */
    public int pending() {
        return buf.position();
    }

    public void flush() throws IOException {
        flushed += buf.position();
        buf.flip();
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
        buf.clear();
    }

    @Override
    public void close() throws IOException {
        if (closed) return;
        closed = true;
        try {
            if (format == Format.PCAPNG) {
                long now = System.currentTimeMillis() * 1_000_000L;
                for (int i = 0; i < interfaces; i++) {
                    if (buf.remaining() < 128) flush();
                    int total = 12 + 8 + 5 * 12 + 4 + 4;
                    buf.putInt(5).putInt(total).putInt(i).putInt((int) (now >>> 32)).putInt((int) now);
                    int[] codes = {4, 5, 6, 7, 8}; // isb_ifrecv, isb_ifdrop, isb_filteraccept, isb_osdrop, isb_usrdeliv
                    long[] v = {stats[i][0], stats[i][1], stats[i][2], stats[i][3], stats[i][4]};
                    for (int c = 0; c < 5; c++) {
                        buf.putShort((short) codes[c]).putShort((short) 8).putLong(v[c]);
                    }
                    buf.putInt(0).putInt(total);
                }
            }
            flush();
        } finally {
            ch.close();
        }
    }
}
