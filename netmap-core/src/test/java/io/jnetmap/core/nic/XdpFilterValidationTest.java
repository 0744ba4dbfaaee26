package io.jnetmap.core.nic;

import io.jnetmap.core.Port;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A classic BPF program an API caller hands to {@link NicPort#setXdpFilter} is checked as the kernel checks one, before
 * anything is translated or loaded: a backward jump or a loop, a jump past the end, too many instructions, an unknown
 * code, a bad scratch cell, a division by the constant 0, no return at the end are each refused in one line naming the
 * instruction and why.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class XdpFilterValidationTest {
    /** {code, jt, jf, k} per instruction. */
    private static MemorySegment program(Arena a, int[]... insns) {
        MemorySegment s = a.allocate(8L * insns.length, 8);
        for (int i = 0; i < insns.length; i++) {
            s.set(JAVA_SHORT, 8L * i, (short) insns[i][0]);
            s.set(JAVA_BYTE, 8L * i + 2, (byte) insns[i][1]);
            s.set(JAVA_BYTE, 8L * i + 3, (byte) insns[i][2]);
            s.set(JAVA_INT, 8L * i + 4, insns[i][3]);
        }
        return s;
    }

    private static String refusal(MemorySegment prog, int count) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> XdpFilter.translate(prog, count, 3));
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
        return e.getMessage();
    }

    private static final int[] LDH_12 = {0x28, 0, 0, 12};
    private static final int[] RET_ALL = {0x06, 0, 0, 262144};
    private static final int[] RET_0 = {0x06, 0, 0, 0};

    /** ldh [12]; six tests; then {@code at7}; then returns. */
    private static MemorySegment withAt7(Arena a, int[] at7) {
        int[] jeq = {0x15, 0, 0, 0x800};
        return program(a, LDH_12, jeq, jeq, jeq, jeq, jeq, jeq, at7, RET_ALL, RET_0);
    }

    @Test
    void aBackwardJumpOrALoopIsRefusedNamingTheInstruction() {
        try (Arena a = Arena.ofConfined()) {
            assertEquals("jump at instruction 7 goes backward (to 5): classic BPF allows only forward jumps",
                    refusal(withAt7(a, new int[] {0x05, 0, 0, -3}), 10));
            assertEquals("jump at instruction 7 goes backward (to itself, a loop): classic BPF allows only forward jumps",
                    refusal(withAt7(a, new int[] {0x05, 0, 0, -1}), 10));
            assertEquals("jump at instruction 7 goes backward (to 0): classic BPF allows only forward jumps",
                    refusal(withAt7(a, new int[] {0x05, 0, 0, -8}), 10));
        }
    }

    @Test
    void aJumpPastTheEndIsRefusedNamingTheInstruction() {
        try (Arena a = Arena.ofConfined()) {
            assertEquals("jump at instruction 7 goes past the end (to 10, the last instruction is 9)",
                    refusal(withAt7(a, new int[] {0x05, 0, 0, 2}), 10));
            assertEquals("jump at instruction 7 goes past the end (to 208, the last instruction is 9)",
                    refusal(withAt7(a, new int[] {0x15, 0, 200, 0x86dd}), 10));
            assertEquals("jump at instruction 7 goes past the end (to 12, the last instruction is 9)",
                    refusal(withAt7(a, new int[] {0x2d, 4, 0, 0}), 10));
        }
    }

    @Test
    void tooManyInstructionsOrNoneAreRefused() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment big = a.allocate(8L * 4097, 8);
            for (int i = 0; i < 4097; i++) {
                big.set(JAVA_SHORT, 8L * i, (short) 0x06);
            }
            assertEquals("a program of 4097 instructions (expected: 1..4096, classic BPF's limit BPF_MAXINSNS)", refusal(big, 4097));
            assertEquals("a program of 0 instructions (expected: 1..4096, classic BPF's limit BPF_MAXINSNS)", refusal(big, 0));
            XdpFilter.translate(big, 4096, 3); // the limit itself is a program
        }
    }

    @Test
    void otherFaultsAreRefusedNamingTheInstruction() {
        try (Arena a = Arena.ofConfined()) {
            assertEquals("instruction 7: code 0xe is not a classic BPF instruction", refusal(withAt7(a, new int[] {0x0e, 0, 0, 0}), 10));
            assertEquals("instruction 7: scratch cell M[16] (expected: 0..15)", refusal(withAt7(a, new int[] {0x02, 0, 0, 16}), 10));
            assertEquals("instruction 7: division by the constant 0", refusal(withAt7(a, new int[] {0x34, 0, 0, 0}), 10));
            assertEquals("instruction 1, the last, is not a return (code 0x28): classic BPF programs end with one",
                    refusal(program(a, RET_ALL, LDH_12), 2));
        }
    }

    @Test
    void aValidProgramTranslates() {
        try (Arena a = Arena.ofConfined()) {
            byte[] code = XdpFilter.translate(withAt7(a, new int[] {0x05, 0, 0, 1}), 10, 3);
            assertTrue(code.length > 0 && code.length % 8 == 0);
        }
    }

    /** Through the API on an AF_XDP port: the same line, and the port is left as it was. */
    @Test
    void anApiCallerGetsTheLineFromAnXdpPort() throws Exception {
        try (NetLab lab = new NetLab(); Arena a = Arena.ofConfined()) {
            NetLab.Veth v = lab.vethPair();
            try (Port p = NetLab.open(v.nsB(), "netmap:" + v.b() + "@backend=xdp")) {
                NicPort nic = (NicPort) p;
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> nic.setXdpFilter(withAt7(a, new int[] {0x05, 0, 0, -3}), 10));
                assertEquals("jump at instruction 7 goes backward (to 5): classic BPF allows only forward jumps", e.getMessage());
                nic.setXdpFilter(program(a, LDH_12, new int[] {0x15, 0, 1, 0x800}, RET_ALL, RET_0), 4); // the port still takes a valid one
                // a program of one return (what Pcap.setFilter sets to let everything through): the verifier takes it,
                // though one of the two endings is never reached
                nic.setXdpFilter(program(a, RET_ALL), 1);
                nic.setXdpFilter(program(a, RET_0), 1);
            }
        }
    }
}
