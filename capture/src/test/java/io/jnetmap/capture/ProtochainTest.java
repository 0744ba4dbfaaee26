package io.jnetmap.capture;

import io.jnetmap.capture.Bpf.Insn;
import io.jnetmap.capture.Packets.B;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

import static io.jnetmap.capture.Bpf.*;
import static io.jnetmap.capture.Packets.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code protochain}: libpcap's loop over the IPv6 extension headers and AH (a backward jump). The same program
 * as {@code tcpdump -d}, the same packets as tcpdump through the interpreter and the bytecode, and a packet
 * that would make the loop spin (tcpdump itself never returns from it) dropped after the iteration cap.
 */
class ProtochainTest {
    static Path dir;
    static Path trace;
    static List<byte[]> packets;

    static final int HOP = 0, ROUTING = 43, FRAG = 44, AH = 51, NONE = 59, DSTOPTS = 60, TCP = 6, UDP = 17;

    /** An IPv6 extension header (hop-by-hop, routing, destination options): 8 + 8 * units bytes. */
    static byte[] ext(int next, int units) {
        return new B().u8(next).u8(units).zeros(6 + 8 * units).done();
    }

    static byte[] frag(int next, int offsetWord) {
        return new B().u8(next).u8(0).u16(offsetWord).u32(0x11).done();
    }

    /** An AH header: (len + 2) * 4 bytes. */
    static byte[] ah(int next, int len) {
        return new B().u8(next).u8(len).u16(0).u32(0x100).u32(1).zeros((len + 2) * 4 - 12).done();
    }

    static byte[] v6(int next, byte[]... chain) {
        return cat(eth(MAC_A, MAC_B, 0x86dd), ipv6(next, Packets.v6(1), Packets.v6(2), cat(chain)));
    }

    /** Frames with header chains: the corpus has few. */
    static List<byte[]> chains() {
        byte[] tcp = l4(1024, 80, 0x02, 0), udp = l4(53, 53, 0, 0);
        List<byte[]> out = new ArrayList<>();
        out.add(v6(HOP, ext(DSTOPTS, 0), ext(FRAG, 1), frag(TCP, 0), tcp));
        out.add(v6(HOP, ext(DSTOPTS, 1), ext(FRAG, 0), frag(UDP, 0), udp));
        out.add(v6(HOP, ext(DSTOPTS, 0), ext(FRAG, 0), frag(UDP, 0x00b9), udp)); // a later fragment: the chain is walked all the same
        out.add(v6(ROUTING, ext(UDP, 2), udp));
        out.add(v6(DSTOPTS, ext(AH, 0), ah(TCP, 4), tcp));
        out.add(v6(HOP, ext(NONE, 0), new byte[20]));
        out.add(v6(HOP, new B().u8(TCP).u8(40).zeros(6).done())); // the header claims more than the frame holds
        out.add(v6(AH, ah(FRAG, 4), frag(TCP, 0), tcp)); // libpcap's AH step sets X = 24, not 40 + 24: no match
        byte[][] many = new byte[31][];
        for (int i = 0; i < 30; i++) many[i] = ext(i == 29 ? UDP : HOP, i % 3);
        many[30] = udp;
        out.add(v6(HOP, many));
        out.add(v6(TCP, tcp));
        out.add(v6(FRAG, frag(NONE, 0)));
        out.add(cat(eth(MAC_A, MAC_B, 0x800), ipv4(AH, ip(10, 0, 0, 1), ip(10, 0, 0, 2), 0x4000, 5, cat(ah(TCP, 4), tcp))));
        out.add(cat(eth(MAC_A, MAC_B, 0x800), ipv4(AH, ip(10, 0, 0, 1), ip(10, 0, 0, 2), 0x4000, 6, cat(ah(UDP, 4), udp))));
        out.add(cat(eth(MAC_A, MAC_B, 0x800), ipv4(AH, ip(10, 0, 0, 1), ip(10, 0, 0, 2), 0x4000, 5, cat(ah(AH, 4), ah(TCP, 4), tcp))));
        out.add(cat(eth(MAC_A, MAC_B, 0x800), ipv4(AH, ip(10, 0, 0, 1), ip(10, 0, 0, 2), 0x4000, 5, cat(ah(AH, 1), ah(UDP, 3), udp))));
        out.add(cat(eth(MAC_A, MAC_B, 0x800), ipv4(AH, ip(10, 0, 0, 1), ip(10, 0, 0, 2), 0x4000, 5, new byte[] {TCP})));
        out.add(cat(eth(MAC_A, MAC_B, 0x800), ipv4(NONE, ip(10, 0, 0, 1), ip(10, 0, 0, 2), 0x4000, 5, new byte[8])));
        out.add(cat(eth(MAC_A, MAC_B, 0x8100000a, TYPE_ONLY | 0x86dd), ipv6(HOP, Packets.v6(1), Packets.v6(2), cat(ext(TCP, 0), tcp))));
        out.add(cat(eth(MAC_A, MAC_B, 0x8847), new B().u32(5 << 12 | 0x100 | 64).done(),
                ipv6(DSTOPTS, Packets.v6(1), Packets.v6(2), cat(ext(UDP, 0), udp))));
        out.add(cat(eth(MAC_A, MAC_B, 0x8847), new B().u32(5 << 12 | 0x100 | 64).done(),
                ipv4(AH, ip(10, 0, 0, 1), ip(10, 0, 0, 2), 0, 5, cat(ah(UDP, 4), udp))));
        return out;
    }

    /** IPv4 whose AH header says the next one is AH again, (3 + 2) * 4 = 20 bytes in: libpcap's step puts X back on it. */
    static byte[] selfPointingAh() {
        return cat(eth(MAC_A, MAC_B, 0x800), ipv4(AH, ip(10, 0, 0, 1), ip(10, 0, 0, 2), 0, 5, ah(AH, 3)));
    }

    @BeforeAll
    static void setUp() throws Exception {
        Tcpdump.ensureInstalled("tcpdump", "tcpdump");
        dir = Files.createTempDirectory("jnetmap-protochain");
        trace = dir.resolve("chains.pcap");
        packets = new ArrayList<>(chains());
        packets.addAll(Packets.corpus());
        Tcpdump.writeTrace(trace, packets);
    }

    @AfterAll
    static void tearDown() throws Exception {
        Tcpdump.removeTraceDir(dir);
    }

    static final String[] EXPRESSIONS = {"ip6 protochain 6", "ip6 protochain 17", "ip protochain 6", "ip protochain 17", "protochain 6",
            "protochain 17", "protochain 44", "protochain 51", "protochain 59", "ip6 protochain 0", "ip6 protochain 60",
            "ip6 protochain 43", "protochain \\tcp", "ip6 protochain \\udp", "protochain 6 or 17", "not protochain 6",
            "protochain 6 and port 80", "protochain 17 and not udp", "tcp or ip6 protochain 17", "vlan and protochain 6",
            "mpls and protochain 17", "mpls and ip protochain 17", "ip6 protochain 6 or ip protochain 17",
            "protochain 6 and ip6 protochain 6", "(protochain 6 or protochain 17) and host fe80::1", "ip6 protochain 58",
            "protochain 1", "ip and not protochain 51", "protochain 300", "protochain 6 and tcp[13] & 2 != 0"};

    @Test
    void selectsWhatTcpdumpSelectsThroughTheInterpreterAndTheBytecode() throws Exception {
        List<String> failures = new ArrayList<>();
        for (String e : EXPRESSIONS) {
            StringBuilder err = new StringBuilder();
            BitSet want = Tcpdump.select(trace, e, err);
            if (want == null) {
                failures.add(e + ": tcpdump rejects it: " + err);
                continue;
            }
            Bpf prog = FilterCompiler.compile(e);
            assertTrue(prog.hasBackwardJump(), e);
            BitSet interp = Tcpdump.selectWith(PacketFilter.interpreter(prog), packets);
            BitSet code = Tcpdump.selectWith(PacketFilter.bytecode(prog), packets);
            if (!want.equals(interp)) failures.add(e + ": tcpdump " + want + ", interpreter " + interp);
            if (!want.equals(code)) failures.add(e + ": tcpdump " + want + ", bytecode " + code);
        }
        assertEquals(List.of(), failures);
        // the chains are walked: each kind of header changes what matches
        BitSet tcp6 = Tcpdump.selectWith(PacketFilter.bytecode(FilterCompiler.compile("ip6 protochain 6")), packets);
        for (int i : new int[] {0, 4, 6, 9}) assertTrue(tcp6.get(i), "frame " + i + " " + tcp6);
        BitSet udp = Tcpdump.selectWith(PacketFilter.bytecode(FilterCompiler.compile("protochain 17")), packets);
        for (int i : new int[] {1, 2, 3, 8, 12}) assertTrue(udp.get(i), "frame " + i + " " + udp);
        assertTrue(Tcpdump.selectWith(PacketFilter.bytecode(FilterCompiler.compile("vlan and protochain 6")), packets).get(17));
        assertTrue(Tcpdump.selectWith(PacketFilter.bytecode(FilterCompiler.compile("mpls and protochain 17")), packets).get(18));
    }

    static final String[] DUMPED = {"ip6 protochain 6", "ip protochain 6", "protochain 17", "vlan and ip6 protochain 17",
            "mpls and protochain 6"};
    /** Combined with port tests: ours leaves out the {@code ldxb} reloads tcpdump's unoptimized program repeats. */
    static final String[] COUNTED = {"protochain 6 and port 80", "tcp port 80 or protochain 17", "not protochain 6 and host 10.0.0.1"};

    /**
     * capture -d prints tcpdump -d's program: the same instructions, bar the scratch cell libpcap happened to
     * pick; combined with other tests, at most as many instructions.
     */
    @Test
    void theProgramIsTcpdumps() throws Exception {
        List<String> failures = new ArrayList<>();
        for (String e : DUMPED) {
            Tcpdump.Result r = Tcpdump.run(List.of("tcpdump", "-r", trace.toString(), "-d", e));
            assertEquals(0, r.exit(), e + ": " + r.err());
            String theirs = r.out().replaceAll("M\\[\\d+\\]", "M[n]");
            String ours = FilterCompiler.compile(e).dump().replaceAll("M\\[\\d+\\]", "M[n]");
            if (!ours.equals(theirs)) failures.add(e + ":\n" + ours + "tcpdump -d:\n" + theirs);
        }
        for (String e : COUNTED) {
            int t = Tcpdump.instructions(trace, e), o = FilterCompiler.compile(e).length();
            if (t <= 0 || o > t) failures.add(e + ": " + o + " instructions, tcpdump -d " + t);
        }
        assertEquals(List.of(), failures);
    }

    /** tcpdump spins forever on this frame (SIGTERM does not stop it); both JVM paths drop it after the cap. */
    @Test
    void aLoopThatNeverAdvancesIsCutOff() {
        byte[] f = selfPointingAh();
        Bpf prog = FilterCompiler.compile("ip protochain 6");
        for (PacketFilter pf : List.of(PacketFilter.interpreter(prog), PacketFilter.bytecode(prog))) {
            assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
                for (int i = 0; i < 3; i++) assertEquals(0, pf.run(MemorySegment.ofArray(f), 0, f.length, f.length));
            }, pf.getClass().getName());
        }
        // a program that jumps to itself
        Bpf spin = new Bpf(Insn.stmt(LD | IMM, 5), Insn.stmt(JMP | JA, -1), Insn.stmt(RET | A, 0));
        assertTrue(spin.hasBackwardJump());
        byte[] one = {1};
        for (PacketFilter pf : List.of(PacketFilter.interpreter(spin), PacketFilter.bytecode(spin))) {
            assertTimeoutPreemptively(Duration.ofSeconds(20), () -> assertEquals(0, pf.run(MemorySegment.ofArray(one), 0, 1, 1)));
        }
    }

    /** A loop that turns exactly as often as the cap allows still ends normally; one turn more drops the packet. */
    @Test
    void theCapIsExact() {
        int cap = BpfInterpreter.MAX_BACKWARD_JUMPS;
        for (int turns : new int[] {cap, cap + 1}) {
            // A counts down from turns; ret #1 when it reaches 0
            Bpf p = new Bpf(Insn.stmt(LD | IMM, turns), Insn.jump(JMP | JEQ | K, 0, 2, 0), Insn.stmt(ALU | SUB | K, 1),
                    Insn.stmt(JMP | JA, -3), Insn.stmt(RET | K, 1));
            for (PacketFilter pf : List.of(PacketFilter.interpreter(p), PacketFilter.bytecode(p))) {
                assertEquals(turns == cap ? 1 : 0, pf.run(MemorySegment.ofArray(new byte[1]), 0, 1, 1), turns + " " + pf.getClass());
            }
        }
    }

    @Test
    void backwardJumpsOutsideTheProgramAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Bpf(Insn.stmt(LD | IMM, 0), Insn.stmt(JMP | JA, -3), Insn.stmt(RET | A, 0)));
        assertThrows(IllegalArgumentException.class, () -> new Bpf(Insn.stmt(JMP | JA, Integer.MIN_VALUE), Insn.stmt(RET | A, 0)));
        assertFalse(FilterCompiler.compile("ip6 proto 6 or tcp port 80").hasBackwardJump());
        String fail = null;
        try {
            new Bpf(Insn.stmt(JMP | JA, -1), Insn.stmt(RET | A, 0));
        } catch (IllegalArgumentException e) {
            fail = e.getMessage();
        }
        if (fail != null) fail("a jump to itself is a valid (capped) loop: " + fail);
    }
}
