package io.jnetmap.capture;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a live Linux capture adds to the filter language, as libpcap 1.10 has it: {@code inbound} and
 * {@code outbound} read the socket's packet type (SKF_AD_PKTTYPE) as in {@code tcpdump -d}; the JVM paths, which have no packet type, refuse them instead of rejecting every packet; the
 * live program reads a VLAN tag the kernel kept aside for the first {@code vlan} and is the plain
 * program for expressions without one; {@code gateway} is refused as tcpdump refuses it.
 */
class LiveLinuxFilterTest {
    @BeforeAll
    static void tcpdump() throws Exception {
        Tcpdump.ensureInstalled("tcpdump", "tcpdump");
    }

    private static String tcpdumpD(String expr) throws Exception {
        Tcpdump.Result r = Tcpdump.run(List.of("tcpdump", "-d", expr));
        assertEquals(0, r.exit(), r.err());
        return r.out();
    }

    @Test
    void inboundAndOutboundCompileAsTcpdumps() throws Exception {
        for (String e : new String[] {"inbound", "outbound", "outbound and icmp", "inbound and tcp port 80", "not outbound"}) {
            String theirs = tcpdumpD(e);
            Bpf ours = FilterCompiler.compile(e);
            // the same test of the packet type, in as many instructions (blocks may be laid out in another order)
            assertEquals(theirs.lines().count(), ours.length(), e + "\n" + theirs + "\n" + ours.dump());
            assertTrue(ours.dump().startsWith("(000) ldh      [type]\n(001) jeq      #0x4 "), ours.dump());
            assertTrue(theirs.startsWith("(000) ldh      [type]\n(001) jeq      #0x4 "), theirs);
            assertTrue(ours.readsAncillary(), e);
        }
    }

    @Test
    void theJvmRefusesProgramsThatReadTheDirection() {
        Bpf p = FilterCompiler.compile("outbound and icmp");
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, () -> PacketFilter.interpreter(p));
        assertTrue(e.getMessage().contains("inbound/outbound not supported"), e.getMessage());
        assertThrows(UnsupportedOperationException.class, () -> PacketFilter.bytecode(p));
        assertTrue(!FilterCompiler.compile("tcp port 80").readsAncillary());
    }

    @Test
    void inTheJvmTheDirectionComesFromThePort() {
        byte[] icmp = new byte[98];
        icmp[12] = 0x08; // IPv4
        icmp[14] = 0x45;
        icmp[23] = 1; // ICMP
        java.lang.foreign.MemorySegment seg = java.lang.foreign.MemorySegment.ofArray(icmp);
        for (String e : new String[] {"outbound and icmp", "inbound and icmp", "not outbound"}) {
            Bpf p = FilterCompiler.compile(e);
            boolean wantOut = e.startsWith("outbound");
            for (PacketFilter sent : List.of(PacketFilter.interpreter(p.withPacketType(Bpf.PACKET_OUTGOING)),
                    PacketFilter.bytecode(p.withPacketType(Bpf.PACKET_OUTGOING)))) {
                assertEquals(wantOut, sent.matches(seg, 0, icmp.length, icmp.length), e + " on a packet the port sent");
            }
            for (PacketFilter rcvd : List.of(PacketFilter.interpreter(p.withPacketType(Bpf.PACKET_HOST)),
                    PacketFilter.bytecode(p.withPacketType(Bpf.PACKET_HOST)))) {
                assertEquals(!wantOut, rcvd.matches(seg, 0, icmp.length, icmp.length), e + " on a packet the port received");
            }
        }
        Bpf plain = FilterCompiler.compile("icmp");
        assertTrue(plain.withPacketType(Bpf.PACKET_OUTGOING) == plain, "a program without the packet type stays as it is");
    }

    @Test
    void theLiveProgramReadsAStrippedTagOnlyForVlan() {
        for (String e : new String[] {"udp", "tcp port 80 or 443", "not ip"}) {
            assertEquals(FilterCompiler.compile(e), FilterCompiler.compileLinuxLive(e, FilterCompiler.DEFAULT_SNAPLEN, true), e);
        }
        Bpf live = FilterCompiler.compileLinuxLive("vlan 10 and udp", FilterCompiler.DEFAULT_SNAPLEN, true);
        String d = live.dump();
        assertTrue(d.startsWith("(000) ldb      [vlanp]"), d);
        assertTrue(d.contains("ld       [vlan_tci]"), d);
        assertTrue(live.readsAncillary());
        // the branch for in-packet tags is the offline program, whole, at the end
        Bpf offline = FilterCompiler.compile("vlan 10 and udp");
        for (int i = 0; i < offline.length(); i++) {
            assertEquals(offline.insn(i), live.insn(live.length() - offline.length() + i), "instruction " + i);
        }
        // a first vlan without an id is true when the tag is aside; "not vlan" then rejects
        assertTrue(FilterCompiler.compileLinuxLive("not vlan", FilterCompiler.DEFAULT_SNAPLEN, true).dump().contains("ret      #0"));
    }

    @Test
    void gatewayIsRefusedAsTcpdumpRefusesIt() throws Exception {
        Tcpdump.Result r = Tcpdump.run(List.of("tcpdump", "-d", "gateway localhost"));
        assertTrue(r.exit() != 0 && r.err().contains("'gateway' not supported in this configuration"), r.err());
        FilterSyntaxException e = assertThrows(FilterSyntaxException.class, () -> FilterCompiler.compile("gateway localhost"));
        assertTrue(e.getMessage().contains("'gateway' not supported in this configuration"), e.getMessage());
    }
}
