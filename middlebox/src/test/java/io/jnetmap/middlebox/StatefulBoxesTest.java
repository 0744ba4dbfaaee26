package io.jnetmap.middlebox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The firewall's and the NAT's decisions and rewrites on single frames, with a clock the test moves. */
class StatefulBoxesTest {
    static final int CLIENT = Ipv4.parseAddr("10.9.0.1");
    static final int SERVER = Ipv4.parseAddr("192.168.77.2");
    static final int OUTSIDE = Ipv4.parseAddr("192.168.77.1");

    /** An Ethernet/IPv4 frame with a TCP (flags), UDP or ICMP echo (type) header and 8 bytes of payload, checksums complete. */
    static MemorySegment frame(int proto, int src, int dst, int sp, int dp, int flagsOrType) {
        int l4len = proto == Ipv4.TCP ? 20 : 8;
        int len = 14 + 20 + l4len + 8;
        MemorySegment m = MemorySegment.ofArray(new byte[len]);
        Ipv4.put32(m, 0, 0x02000000);
        Ipv4.put16(m, 4, 2);
        Ipv4.put32(m, 6, 0x02000000);
        Ipv4.put16(m, 10, 1);
        Ipv4.put16(m, 12, 0x0800);
        m.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 14, (byte) 0x45);
        Ipv4.put16(m, 16, len - 14);
        m.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 22, (byte) 64);
        m.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 23, (byte) proto);
        Ipv4.put32(m, 26, src);
        Ipv4.put32(m, 30, dst);
        Ipv4.put16(m, 24, Ipv4.checksum(m, 14, 20));
        long l4 = 34;
        for (int i = 0; i < 8; i++) {
            m.set(java.lang.foreign.ValueLayout.JAVA_BYTE, l4 + l4len + i, (byte) (i * 37));
        }
        if (proto == Ipv4.ICMP) {
            m.set(java.lang.foreign.ValueLayout.JAVA_BYTE, l4, (byte) flagsOrType);
            Ipv4.put16(m, l4 + 4, sp);
            Ipv4.put16(m, l4 + 6, 1);
            Ipv4.put16(m, l4 + 2, Ipv4.checksum(m, l4, l4len + 8));
        } else {
            Ipv4.put16(m, l4, sp);
            Ipv4.put16(m, l4 + 2, dp);
            if (proto == Ipv4.TCP) {
                m.set(java.lang.foreign.ValueLayout.JAVA_BYTE, l4 + 12, (byte) 0x50);
                m.set(java.lang.foreign.ValueLayout.JAVA_BYTE, l4 + 13, (byte) flagsOrType);
            } else {
                Ipv4.put16(m, l4 + 4, l4len + 8);
            }
            Ipv4.put16(m, l4 + (proto == Ipv4.TCP ? 16 : 6), l4Checksum(m, proto));
        }
        return m;
    }

    /** The TCP/UDP checksum the frame should carry (pseudo-header included), computed from scratch. */
    static int l4Checksum(MemorySegment m, int proto) {
        int l4len = (int) m.byteSize() - 34;
        MemorySegment pseudo = MemorySegment.ofArray(new byte[12 + l4len]);
        Ipv4.put32(pseudo, 0, Ipv4.u32(m, 26));
        Ipv4.put32(pseudo, 4, Ipv4.u32(m, 30));
        Ipv4.put16(pseudo, 8, proto);
        Ipv4.put16(pseudo, 10, l4len);
        MemorySegment.copy(m, 34, pseudo, 12, l4len);
        Ipv4.put16(pseudo, 12 + (proto == Ipv4.TCP ? 16 : 6), 0);
        int c = Ipv4.checksum(pseudo, 0, 12 + l4len);
        return proto == Ipv4.UDP && c == 0 ? 0xffff : c;
    }

    static void assertChecksumsValid(MemorySegment m) {
        assertEquals(0, Ipv4.checksum(m, 14, 20), "IP header checksum");
        int proto = Ipv4.proto(m, 0);
        if (proto == Ipv4.ICMP) {
            assertEquals(0, Ipv4.checksum(m, 34, (int) m.byteSize() - 34), "ICMP checksum");
        } else {
            assertEquals(l4Checksum(m, proto), Ipv4.u16(m, 34 + (proto == Ipv4.TCP ? 16 : 6)), "L4 checksum");
        }
    }

    @Test
    void firewallTracksConnectionsAndLetsOnlyRepliesBack() {
        long[] now = {0};
        Firewall fw = new Firewall(List.of(Firewall.Rule.parse("allow out tcp any 192.168.77.2:8080"),
                Firewall.Rule.parse("allow out udp 10.9.0.0/24 -> any:53"), Firewall.Rule.parse("allow out icmp any any")),
                Firewall.Timeouts.defaults(), 1024, () -> now[0]);
        MemorySegment syn = frame(Ipv4.TCP, CLIENT, SERVER, 40000, 8080, Ipv4.TCP_SYN);
        MemorySegment synAck = frame(Ipv4.TCP, SERVER, CLIENT, 8080, 40000, Ipv4.TCP_SYN | Ipv4.TCP_ACK);
        assertFalse(fw.allows(synAck, 0, (int) synAck.byteSize(), false, now[0]), "no reply before the connection");
        assertTrue(fw.allows(syn, 0, (int) syn.byteSize(), true, now[0]));
        assertTrue(fw.allows(synAck, 0, (int) synAck.byteSize(), false, now[0]), "the reply passes");
        MemorySegment other = frame(Ipv4.TCP, CLIENT, SERVER, 40001, 8081, Ipv4.TCP_SYN);
        assertFalse(fw.allows(other, 0, (int) other.byteSize(), true, now[0]), "no rule for port 8081");
        MemorySegment inbound = frame(Ipv4.TCP, SERVER, CLIENT, 5000, 22, Ipv4.TCP_SYN);
        assertFalse(fw.allows(inbound, 0, (int) inbound.byteSize(), false, now[0]), "nothing starts from outside");
        MemorySegment ack = frame(Ipv4.TCP, CLIENT, SERVER, 40002, 8080, Ipv4.TCP_ACK);
        assertFalse(fw.allows(ack, 0, (int) ack.byteSize(), true, now[0]), "an ACK cannot start a connection");
        MemorySegment dns = frame(Ipv4.UDP, CLIENT, SERVER, 5555, 53, 0);
        MemorySegment dnsReply = frame(Ipv4.UDP, SERVER, CLIENT, 53, 5555, 0);
        assertTrue(fw.allows(dns, 0, (int) dns.byteSize(), true, now[0]));
        assertTrue(fw.allows(dnsReply, 0, (int) dnsReply.byteSize(), false, now[0]));
        MemorySegment ping = frame(Ipv4.ICMP, CLIENT, SERVER, 77, 77, 8);
        MemorySegment pong = frame(Ipv4.ICMP, SERVER, CLIENT, 77, 77, 0);
        MemorySegment pingIn = frame(Ipv4.ICMP, SERVER, CLIENT, 78, 78, 8);
        assertTrue(fw.allows(ping, 0, (int) ping.byteSize(), true, now[0]));
        assertTrue(fw.allows(pong, 0, (int) pong.byteSize(), false, now[0]));
        assertFalse(fw.allows(pingIn, 0, (int) pingIn.byteSize(), false, now[0]), "no ping from outside");
        // idle UDP is forgotten after 30 s; the established TCP stays for 300 s
        now[0] += TimeUnit.SECONDS.toNanos(31);
        assertFalse(fw.allows(dnsReply, 0, (int) dnsReply.byteSize(), false, now[0]), "the UDP entry expired");
        assertTrue(fw.allows(synAck, 0, (int) synAck.byteSize(), false, now[0]));
        MemorySegment rst = frame(Ipv4.TCP, CLIENT, SERVER, 40000, 8080, Ipv4.TCP_RST);
        assertTrue(fw.allows(rst, 0, (int) rst.byteSize(), true, now[0]));
        assertFalse(fw.allows(synAck, 0, (int) synAck.byteSize(), false, now[0]), "gone after RST");
        assertThrows(IllegalArgumentException.class, () -> Firewall.Rule.parse("allow sideways tcp any any"));
        assertThrows(IllegalArgumentException.class, () -> Firewall.Rule.parse("allow out icmp any any:80"));
    }

    /** An Ethernet/IPv6 frame (no extension headers) with a TCP (flags), UDP or ICMPv6 (type, echo identifier sp) header. */
    static MemorySegment frame6(int nh, long srcHi, long srcLo, long dstHi, long dstLo, int sp, int dp, int flagsOrType) {
        MemorySegment m = MemorySegment.ofArray(new byte[14 + 40 + 20 + 8]);
        Ipv4.put16(m, 12, 0x86dd);
        Ipv4.put32(m, 14, 0x60000000);
        Ipv4.put16(m, 18, 28);
        m.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 20, (byte) nh);
        m.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 21, (byte) 64);
        long[] words = {srcHi, srcLo, dstHi, dstLo};
        for (int i = 0; i < 4; i++) {
            Ipv4.put32(m, 22 + 8 * i, (int) (words[i] >>> 32));
            Ipv4.put32(m, 26 + 8 * i, (int) words[i]);
        }
        if (nh == 58) {
            m.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 54, (byte) flagsOrType);
            Ipv4.put16(m, 58, sp);
        } else {
            Ipv4.put16(m, 54, sp);
            Ipv4.put16(m, 56, dp);
            m.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 54 + 13, (byte) flagsOrType);
        }
        return m;
    }

    @Test
    void firewallTracksIpv6ConnectionsAndMatchesIpv6Prefixes() {
        long[] now = {0};
        Firewall fw = new Firewall(List.of(Firewall.Rule.parse("allow out tcp any [2001:db8:2::/48]:443"),
                Firewall.Rule.parse("allow out tcp 10.0.0.0/8 any"), Firewall.Rule.parse("allow out icmp any any")),
                Firewall.Timeouts.defaults(), 1024, () -> now[0]);
        long client = 0x20010db800010000L;
        long server = 0x20010db800020000L;
        long other = 0x20010db800030000L;
        MemorySegment syn = frame6(6, client, 1, server, 5, 40000, 443, Ipv4.TCP_SYN);
        assertTrue(fw.allows(syn, 0, (int) syn.byteSize(), true, now[0]), "the rule's prefix and port");
        MemorySegment synAck = frame6(6, server, 5, client, 1, 443, 40000, Ipv4.TCP_SYN | Ipv4.TCP_ACK);
        assertTrue(fw.allows(synAck, 0, (int) synAck.byteSize(), false, now[0]), "the reply of a tracked connection");
        MemorySegment stranger = frame6(6, server, 6, client, 1, 443, 40000, Ipv4.TCP_SYN | Ipv4.TCP_ACK);
        assertFalse(fw.allows(stranger, 0, (int) stranger.byteSize(), false, now[0]), "another host's 'reply'");
        MemorySegment in = frame6(6, server, 5, client, 1, 5000, 22, Ipv4.TCP_SYN);
        assertFalse(fw.allows(in, 0, (int) in.byteSize(), false, now[0]), "no rule lets it in");
        MemorySegment elsewhere = frame6(6, client, 1, other, 5, 40001, 443, Ipv4.TCP_SYN);
        assertFalse(fw.allows(elsewhere, 0, (int) elsewhere.byteSize(), true, now[0]), "outside the prefix; the IPv4 rule is not for IPv6");
        MemorySegment port80 = frame6(6, client, 1, server, 5, 40002, 80, Ipv4.TCP_SYN);
        assertFalse(fw.allows(port80, 0, (int) port80.byteSize(), true, now[0]), "another port");
        MemorySegment ping = frame6(58, client, 1, other, 9, 77, 0, 128);
        assertTrue(fw.allows(ping, 0, (int) ping.byteSize(), true, now[0]), "icmp rules cover ICMPv6 echo");
        MemorySegment pong = frame6(58, other, 9, client, 1, 77, 0, 129);
        assertTrue(fw.allows(pong, 0, (int) pong.byteSize(), false, now[0]), "the echo reply");
        MemorySegment pingIn = frame6(58, other, 9, client, 1, 78, 0, 128);
        assertFalse(fw.allows(pingIn, 0, (int) pingIn.byteSize(), false, now[0]), "an echo request from outside");
        MemorySegment ns = frame6(58, other, 9, client, 1, 0, 0, 135);
        assertTrue(fw.allows(ns, 0, (int) ns.byteSize(), false, now[0]), "neighbour solicitation passes, as ARP does");
        assertThrows(IllegalArgumentException.class, () -> Firewall.Rule.parse("allow out tcp any [2001:db8::/129]"));
        assertThrows(IllegalArgumentException.class, () -> Firewall.Rule.parse("allow out tcp 10.0.0.1 [2001:db8::1]"));
        assertThrows(IllegalArgumentException.class, () -> Firewall.Rule.parse("allow out tcp any [10.0.0.1]"));
    }

    @Test
    void natAnswersArpForItsOutsideAddressOnly() {
        long outsideMac = 0x020000000022L;
        Nat44 nat = new Nat44(Nat44.Config.of(OUTSIDE, 0x020000000011L, outsideMac, 0x020000000033L));
        MemorySegment req = MemorySegment.ofArray(new byte[60]);
        long asker = 0x0a0000000077L;
        int askerIp = SERVER;
        Ipv4.put32(req, 0, -1); // to everyone
        Ipv4.put16(req, 4, 0xffff);
        Ipv4.put32(req, 6, (int) (asker >>> 16));
        Ipv4.put16(req, 10, (int) asker);
        Ipv4.put16(req, 12, 0x0806);
        Ipv4.put32(req, 14, 0x0001_0800);
        Ipv4.put16(req, 18, 0x0604);
        Ipv4.put16(req, 20, 1);
        Ipv4.put32(req, 22, (int) (asker >>> 16));
        Ipv4.put16(req, 26, (int) asker);
        Ipv4.put32(req, 28, askerIp);
        Ipv4.put32(req, 38, OUTSIDE + 1);
        assertFalse(nat.arpReply(req, 0, 60), "someone else's address");
        Ipv4.put32(req, 38, OUTSIDE);
        assertTrue(nat.arpReply(req, 0, 60));
        assertEquals(asker, (Ipv4.u32(req, 0) & 0xffffffffL) << 16 | Ipv4.u16(req, 4), "to the asker");
        assertEquals(outsideMac, (Ipv4.u32(req, 6) & 0xffffffffL) << 16 | Ipv4.u16(req, 10), "from us");
        assertEquals(2, Ipv4.u16(req, 20), "a reply");
        assertEquals(outsideMac, (Ipv4.u32(req, 22) & 0xffffffffL) << 16 | Ipv4.u16(req, 26), "sender hardware: us");
        assertEquals(OUTSIDE, Ipv4.u32(req, 28), "sender protocol: the outside address");
        assertEquals(asker, (Ipv4.u32(req, 32) & 0xffffffffL) << 16 | Ipv4.u16(req, 36));
        assertEquals(askerIp, Ipv4.u32(req, 38));
        assertFalse(nat.arpReply(req, 0, 60), "a reply is not answered");
    }

    @Test
    void natTranslatesBothWaysWithValidChecksumsAllocatesPortsAndExpires() {
        long[] now = {0};
        Nat44 nat = new Nat44(Nat44.Config.of(OUTSIDE, 0x020000000011L, 0x020000000022L, 0x020000000033L)
                .withTimeouts(TimeUnit.SECONDS.toNanos(300), TimeUnit.SECONDS.toNanos(30), TimeUnit.SECONDS.toNanos(10)), () -> now[0]);
        for (int proto : new int[] {Ipv4.TCP, Ipv4.UDP}) {
            MemorySegment out = frame(proto, CLIENT, SERVER, 40000, 8080, Ipv4.TCP_SYN);
            assertTrue(nat.outbound(out, 0, (int) out.byteSize(), now[0]));
            assertEquals(OUTSIDE, Ipv4.src(out, 0));
            int ext = Ipv4.u16(out, 34);
            assertTrue(ext >= 20000 && ext <= 59999, "port " + ext);
            assertEquals(0x0200, Ipv4.u16(out, 0));
            assertEquals(0x00000033, Ipv4.u32(out, 2));
            assertChecksumsValid(out);
            MemorySegment back = frame(proto, SERVER, OUTSIDE, 8080, ext, Ipv4.TCP_SYN | Ipv4.TCP_ACK);
            assertTrue(nat.inbound(back, 0, (int) back.byteSize(), now[0]));
            assertEquals(CLIENT, Ipv4.dst(back, 0));
            assertEquals(40000, Ipv4.u16(back, 36));
            assertChecksumsValid(back);
            // a second inside host with the same source port gets another outside port
            MemorySegment out2 = frame(proto, CLIENT + 1, SERVER, 40000, 8080, Ipv4.TCP_SYN);
            assertTrue(nat.outbound(out2, 0, (int) out2.byteSize(), now[0]));
            assertNotEquals(ext, Ipv4.u16(out2, 34));
            MemorySegment stranger = frame(proto, SERVER, OUTSIDE, 8080, ext + 1000, Ipv4.TCP_SYN);
            assertFalse(nat.inbound(stranger, 0, (int) stranger.byteSize(), now[0]), "no mapping, no entry");
        }
        MemorySegment ping = frame(Ipv4.ICMP, CLIENT, SERVER, 99, 99, 8);
        assertTrue(nat.outbound(ping, 0, (int) ping.byteSize(), now[0]));
        assertChecksumsValid(ping);
        int id = Ipv4.u16(ping, 38);
        MemorySegment pong = frame(Ipv4.ICMP, SERVER, OUTSIDE, id, id, 0);
        assertTrue(nat.inbound(pong, 0, (int) pong.byteSize(), now[0]));
        assertEquals(99, Ipv4.u16(pong, 38));
        assertChecksumsValid(pong);
        // UDP mappings expire after 30 idle seconds, TCP ones stay
        now[0] += TimeUnit.SECONDS.toNanos(31);
        MemorySegment udpOut = frame(Ipv4.UDP, CLIENT, SERVER, 40000, 8080, 0);
        MemorySegment tcpOut = frame(Ipv4.TCP, CLIENT, SERVER, 40000, 8080, Ipv4.TCP_ACK);
        assertTrue(nat.outbound(tcpOut, 0, (int) tcpOut.byteSize(), now[0]));
        int tcpExt = Ipv4.u16(tcpOut, 34);
        MemorySegment udpBack = frame(Ipv4.UDP, SERVER, OUTSIDE, 8080, 20001, 0);
        assertFalse(nat.inbound(udpBack, 0, (int) udpBack.byteSize(), now[0]), "expired");
        MemorySegment tcpBack = frame(Ipv4.TCP, SERVER, OUTSIDE, 8080, tcpExt, Ipv4.TCP_ACK);
        assertTrue(nat.inbound(tcpBack, 0, (int) tcpBack.byteSize(), now[0]));
        assertTrue(nat.outbound(udpOut, 0, (int) udpOut.byteSize(), now[0]), "a new mapping after expiry");
    }

    @Test
    void flowTableSurvivesChurn() {
        FlowTable t = new FlowTable(1000);
        java.util.Map<Long, Integer> ref = new java.util.HashMap<>();
        java.util.Random r = new java.util.Random(7);
        for (int i = 0; i < 200_000; i++) {
            long k = r.nextInt(1500);
            if (r.nextBoolean() && (ref.containsKey(k) || ref.size() < 1000)) {
                t.put(k, k * 3, i);
                ref.put(k, i);
            } else {
                t.remove(k, k * 3);
                ref.remove(k);
            }
            if (i % 1000 == 0) {
                for (long q = 0; q < 1500; q++) {
                    assertEquals(ref.getOrDefault(q, FlowTable.ABSENT), t.get(q, q * 3), "key " + q + " at step " + i);
                }
            }
        }
        assertEquals(ref.size(), t.size());
    }
}
