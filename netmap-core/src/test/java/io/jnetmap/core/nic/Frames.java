package io.jnetmap.core.nic;

import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;

import java.lang.foreign.MemorySegment;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/**
 * Ethernet frames for tests: a header, an experimental ethertype ({@link #ETHERTYPE}, which receiving
 * stacks drop right away) and a sequence number with its complement, so a receiver can tell test
 * frames from anything else and check order.
 */
public final class Frames {
    /** IEEE local experimental ethertype 1. */
    public static final int ETHERTYPE = 0x88b5;
    /** Where the sequence number sits (after the 14-byte header and 2 bytes of padding). */
    public static final int SEQ_OFFSET = 16;

    private Frames() {
    }

    /** "02:6a:00:00:01:02" as 6 bytes. */
    public static byte[] mac(String text) {
        return HexFormat.ofDelimiter(":").parseHex(text);
    }

    /** Writes a {@code len}-byte test frame with sequence number {@code seq} into the slot and sets its length. */
    public static void write(Ring ring, int slot, byte[] dst, byte[] src, long seq, int len) {
        MemorySegment m = ring.memory();
        long off = ring.bufOffset(slot);
        MemorySegment.copy(dst, 0, m, JAVA_BYTE, off, 6);
        MemorySegment.copy(src, 0, m, JAVA_BYTE, off + 6, 6);
        m.set(JAVA_SHORT_UNALIGNED, off + 12, Short.reverseBytes((short) ETHERTYPE));
        m.set(JAVA_SHORT_UNALIGNED, off + 14, (short) 0);
        m.set(JAVA_LONG_UNALIGNED, off + SEQ_OFFSET, seq);
        m.set(JAVA_LONG_UNALIGNED, off + SEQ_OFFSET + 8, ~seq);
        for (int i = SEQ_OFFSET + 16; i + 4 <= len; i += 4) {
            m.set(JAVA_INT_UNALIGNED, off + i, 0x5a5a5a5a);
        }
        ring.setSlot(slot, len, 0);
    }

    /** The sequence number of a test frame in the slot, or -1 if it holds something else. */
    public static long seq(Ring ring, int slot) {
        if (ring.len(slot) < SEQ_OFFSET + 16) {
            return -1;
        }
        MemorySegment m = ring.memory();
        long off = ring.bufOffset(slot);
        if (Short.reverseBytes(m.get(JAVA_SHORT_UNALIGNED, off + 12)) != (short) ETHERTYPE) {
            return -1;
        }
        long seq = m.get(JAVA_LONG_UNALIGNED, off + SEQ_OFFSET);
        return m.get(JAVA_LONG_UNALIGNED, off + SEQ_OFFSET + 8) == ~seq ? seq : -1;
    }

    /** The ethertype of a frame. */
    public static int type(byte[] f) {
        return ((f[12] & 0xff) << 8) | (f[13] & 0xff);
    }

    /** {@code len} bytes of {@code b} from {@code from}. */
    public static byte[] slice(byte[] b, int from, int len) {
        byte[] out = new byte[len];
        System.arraycopy(b, from, out, 0, len);
        return out;
    }

    /** An ARP who-has {@code targetIp}, tell {@code srcIp} at {@code srcMac}, broadcast; 60 bytes. */
    public static byte[] arpRequest(byte[] srcMac, byte[] srcIp, byte[] targetIp) {
        byte[] f = new byte[60];
        for (int i = 0; i < 6; i++) {
            f[i] = (byte) 0xff;
        }
        System.arraycopy(srcMac, 0, f, 6, 6);
        f[12] = 0x08;
        f[13] = 0x06;
        f[15] = 1;          // htype Ethernet
        f[16] = 0x08;       // ptype IPv4
        f[18] = 6;
        f[19] = 4;
        f[21] = 1;          // who-has
        System.arraycopy(srcMac, 0, f, 22, 6);
        System.arraycopy(srcIp, 0, f, 28, 4);
        System.arraycopy(targetIp, 0, f, 38, 4);
        return f;
    }

    /** An ICMP echo request from {@code srcIp} to {@code dstIp}, Ethernet to {@code dstMac}. */
    public static byte[] echoRequest(byte[] dstMac, byte[] srcMac, byte[] srcIp, byte[] dstIp, int id, int seq) {
        byte[] f = new byte[14 + 20 + 8 + 18];
        System.arraycopy(dstMac, 0, f, 0, 6);
        System.arraycopy(srcMac, 0, f, 6, 6);
        f[12] = 0x08;
        int ip = 14;
        f[ip] = 0x45;
        int total = f.length - 14;
        f[ip + 2] = (byte) (total >> 8);
        f[ip + 3] = (byte) total;
        f[ip + 8] = 64;     // ttl
        f[ip + 9] = 1;      // ICMP
        System.arraycopy(srcIp, 0, f, ip + 12, 4);
        System.arraycopy(dstIp, 0, f, ip + 16, 4);
        putChecksum(f, ip, 20, ip + 10);
        int icmp = ip + 20;
        f[icmp] = 8;        // echo request
        f[icmp + 4] = (byte) (id >> 8);
        f[icmp + 5] = (byte) id;
        f[icmp + 6] = (byte) (seq >> 8);
        f[icmp + 7] = (byte) seq;
        for (int i = icmp + 8; i < f.length; i++) {
            f[i] = (byte) i;
        }
        putChecksum(f, icmp, f.length - icmp, icmp + 2);
        return f;
    }

    /** The Internet checksum of {@code len} bytes at {@code from}, stored big-endian at {@code at}. */
    private static void putChecksum(byte[] f, int from, int len, int at) {
        long sum = 0;
        for (int i = 0; i < len; i += 2) {
            int hi = f[from + i] & 0xff;
            int lo = i + 1 < len ? f[from + i + 1] & 0xff : 0;
            sum += (hi << 8) | lo;
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        int c = (int) ~sum & 0xffff;
        f[at] = (byte) (c >> 8);
        f[at + 1] = (byte) c;
    }

    /** Writes {@code frame} into TX ring 0 of {@code p} and txsyncs; checks the slot came back (a synchronous backend). */
    public static void send(Port p, byte[] frame) {
        Ring t = p.txRing(0);
        int i = t.head();
        MemorySegment.copy(frame, 0, t.memory(), JAVA_BYTE, t.bufOffset(i), frame.length);
        t.setSlot(i, frame.length, 0);
        t.advanceTo(t.nextSlot(i));
        t.sync();
    }

    /** Waits for a frame matching {@code what} on RX ring 0 and returns it; releases everything seen. */
    public static byte[] receive(Port p, Predicate<byte[]> what) {
        Ring r = p.rxRing(0);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            r.sync();
            for (int i = r.head(); i != r.tail(); i = r.nextSlot(i)) {
                byte[] f = r.packet(i).toArray(JAVA_BYTE);
                if (f.length >= 42 && what.test(f)) {
                    r.advanceTo(r.nextSlot(i));
                    return f;
                }
            }
            r.advanceTo(r.tail());
            Thread.onSpinWait();
        }
        throw new AssertionError("no matching frame on " + p.name() + " within 5 s");
    }

    /** Sends frames numbered {@code first ..} from TX ring 0, waiting for room as the switch takes them. */
    public static void sendNumbered(Port p, byte[] dst, byte[] src, long first, int n) {
        Ring t = p.txRing(0);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        long seq = first;
        while (seq < first + n) {
            int room = (int) Math.min(t.space(), first + n - seq);
            int i = t.head();
            for (int k = 0; k < room; k++) {
                Frames.write(t, i, dst, src, seq++, 60);
                i = t.nextSlot(i);
            }
            t.advanceTo(i);
            t.sync();
            if (System.nanoTime() > deadline) {
                throw new AssertionError("sent " + (seq - first) + " of " + n + " on " + p.name());
            }
        }
    }

    /** Receives frames numbered {@code first ..} on RX ring 0, in order, none missing. */
    public static void expectNumbered(Port p, long first, int n) {
        Ring r = p.rxRing(0);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        long next = first;
        while (next < first + n) {
            r.sync();
            for (int j = r.head(); j != r.tail(); j = r.nextSlot(j)) {
                long seq = Frames.seq(r, j);
                if (seq >= 0) {
                    if (seq != next) {
                        throw new AssertionError("in order, none lost, on " + p.name() + ": expected " + next + ", got " + seq);
                    }
                    next++;
                }
            }
            r.advanceTo(r.tail());
            if (System.nanoTime() > deadline) {
                throw new AssertionError("received " + (next - first) + " of " + n + " on " + p.name());
            }
        }
    }

    /** Sends {@code frames} from TX ring 0, in order, waiting for room as the port takes them. */
    public static void sendAll(Port tx, java.util.List<byte[]> frames) {
        Ring t = tx.txRing(0);
        int k = 0;
        while (k < frames.size()) {
            t.sync();
            int h = t.head();
            for (int n = t.space(); n > 0 && k < frames.size(); n--, k++) {
                byte[] f = frames.get(k);
                MemorySegment.copy(MemorySegment.ofArray(f), 0, t.memory(), t.bufOffset(h), f.length);
                t.setSlot(h, f.length, 0);
                h = t.nextSlot(h);
            }
            t.advanceTo(h);
            t.sync();
        }
    }
}
