package io.jnetmap.core.nic;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.lang.foreign.ValueLayout;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A classic BPF filter ({@code struct sock_filter}[], as SO_ATTACH_FILTER takes it) translated to eBPF in
 * front of the XDP redirect: frames it accepts go to the queue's AF_XDP socket ({@code bpf_redirect_map}),
 * the others are passed to the stack ({@code XDP_PASS}), as are frames the filter reads past the end of.
 *
 * <pre>
 *   r6 = data, r9 = data_end, r7 = A, r8 = X (32-bit values, zero-extended)
 *   stack: [r10-8] rx_queue_index, [r10-16] frame length, [r10-24-8i] M[i]
 *   ld [k]      r1 = r6 + k + size; if r1 > r9: pass; A = *(size *)(r6 + k); A = be(A)
 *   ld [x + k]  if X > 0x3fff: pass; r2 = r6 + X; r1 = r2 + k + size; if r1 > r9: pass; A = *(r2 + k)
 *   alu         the same operation in ALU32 (division by X == 0: pass, as classic BPF returns 0)
 *   jmp         JMP32 compare, then ja to the false branch
 *   ret k / a   nonzero: redirect; zero: pass
 * </pre>
 * Classic BPF offsets are unsigned 32-bit; offsets past 32767 cannot be in an XDP frame and pass. The
 * kernel's verifier has the last word ({@link XdpProgram#setFilter}).
 */
final class XdpFilter {
    private XdpFilter() {
    }

    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static final int R0 = 0, R1 = 1, R2 = 2, R3 = 3, R6 = 6, A = 7, X = 8, R9 = 9, FP = 10;
    private static final int PASS = 2;
    private static final int MAX_OFF = 32767 - 8;

    /** Classic BPF's longest program (the kernel's BPF_MAXINSNS). */
    static final int MAX_INSNS = 4096;

    /**
     * The eBPF program (8-byte instructions) for {@code count} classic instructions at {@code filter}, which is
     * {@linkplain #validate validated} first.
     *
     * @throws IllegalArgumentException      if the program is not valid classic BPF ({@link #validate})
     * @throws UnsupportedOperationException if it is, but cannot run in XDP (an ancillary load)
     */
    static byte[] translate(MemorySegment filter, int count, int xskMapFd) {
        validate(filter, count);
        int[] start = new int[count + 1];
        Emitter first = null;
        for (int pass = 0; pass < 2; pass++) {
            // the first pass counts and places; the second writes, with every target known
            Emitter e = pass == 0 ? new Emitter(null, 0, 0) : new Emitter(new byte[first.n * 8], first.passAt, first.redirectAt);
            int[] at = start.clone();
            prologue(e);
            for (int i = 0; i < count; i++) {
                start[i] = e.n;
                try {
                    insn(e, filter, i, count, at);
                } catch (UnsupportedOperationException x) {
                    throw new UnsupportedOperationException("instruction " + i + ": " + x.getMessage(), x);
                }
            }
            start[count] = e.n;
            // each ending only if some instruction goes there: the verifier refuses unreachable code ("ret #k" alone)
            boolean toPass = pass == 0 ? e.usedPass : first.usedPass;
            boolean toRedirect = pass == 0 ? e.usedRedirect : first.usedRedirect;
            e.passAt = e.n;
            if (toPass) {
                e.mov(R0, PASS);
                e.exit();
            }
            e.redirectAt = e.n;
            if (toRedirect) {
                e.ldxw(R2, FP, -8);
                e.ldMapFd(R1, xskMapFd);
                e.mov(R3, PASS);
                e.raw(0x85, 0, 0, 0, 51); // call bpf_redirect_map
                e.exit();
            }
            if (pass == 1) return e.code;
            first = e;
        }
        throw new AssertionError();
    }

    /**
     * Checks {@code count} instructions at {@code filter} as the kernel checks a classic program
     * ({@code bpf_check_classic}), before anything is translated or loaded: 1..4096 instructions, known
     * operation codes, jumps forward and inside the program, scratch cells 0..15, no division by the constant
     * 0, a return last. The first fault is thrown as one line naming the instruction and why ("jump at
     * instruction 7 goes backward (to 5): classic BPF allows only forward jumps").
     *
     * @throws IllegalArgumentException if the program is not valid classic BPF
     */
    static void validate(MemorySegment filter, int count) {
        if (count < 1 || count > MAX_INSNS) {
            throw new IllegalArgumentException("a program of " + count + " instructions (expected: 1.." + MAX_INSNS
                    + ", classic BPF's limit BPF_MAXINSNS)");
        }
        if (filter.byteSize() < 8L * count) {
            throw new IllegalArgumentException("a program of " + count + " instructions in " + filter.byteSize()
                    + " bytes (expected: 8 bytes per instruction, " + 8L * count + ")");
        }
        for (int i = 0; i < count; i++) {
            long o = 8L * i;
            int code = Short.toUnsignedInt(filter.get(JAVA_SHORT, o));
            int jt = Byte.toUnsignedInt(filter.get(JAVA_BYTE, o + 2));
            int jf = Byte.toUnsignedInt(filter.get(JAVA_BYTE, o + 3));
            int k = filter.get(JAVA_INT, o + 4);
            if (!validCode(code)) {
                throw new IllegalArgumentException("instruction " + i + ": code 0x" + Integer.toHexString(code)
                        + " is not a classic BPF instruction");
            }
            switch (code) {
                case 0x60, 0x61, 0x02, 0x03 -> { // LD/LDX MEM, ST, STX
                    if (Integer.compareUnsigned(k, 15) > 0) {
                        throw new IllegalArgumentException("instruction " + i + ": scratch cell M[" + Integer.toUnsignedString(k)
                                + "] (expected: 0..15)");
                    }
                }
                case 0x34, 0x94 -> { // DIV K, MOD K
                    if (k == 0) {
                        throw new IllegalArgumentException("instruction " + i + ": division by the constant 0");
                    }
                }
                case 0x05 -> { // JA: k is unsigned in the kernel; read as signed, a loop or a jump back is negative
                    if (k < 0) {
                        long to = (long) i + 1 + k;
                        throw new IllegalArgumentException("jump at instruction " + i + " goes backward ("
                                + (to == i ? "to itself, a loop" : to >= 0 ? "to " + to : "by " + (-(long) k - 1))
                                + "): classic BPF allows only forward jumps");
                    }
                    if ((long) i + 1 + k >= count) {
                        throw new IllegalArgumentException("jump at instruction " + i + " goes past the end (to "
                                + ((long) i + 1 + k) + ", the last instruction is " + (count - 1) + ")");
                    }
                }
                default -> {
                    if ((code & 0x07) == 0x05 && (i + 1 + jt >= count || i + 1 + jf >= count)) {
                        throw new IllegalArgumentException("jump at instruction " + i + " goes past the end (to "
                                + (i + 1 + Math.max(jt, jf)) + ", the last instruction is " + (count - 1) + ")");
                    }
                }
            }
        }
        int last = Short.toUnsignedInt(filter.get(JAVA_SHORT, 8L * (count - 1)));
        if (last != 0x06 && last != 0x16) {
            throw new IllegalArgumentException("instruction " + (count - 1) + ", the last, is not a return (code 0x"
                    + Integer.toHexString(last) + "): classic BPF programs end with one");
        }
    }

    /** The operation codes classic BPF has (the kernel's table in {@code bpf_check_classic}). */
    private static boolean validCode(int code) {
        return switch (code) {
            // LD: IMM, W/H/B ABS, W/H/B IND, MEM, LEN; LDX: IMM, MEM, LEN, B MSH; ST; STX
            case 0x00, 0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0x60, 0x80, 0x01, 0x61, 0x81, 0xb1, 0x02, 0x03 -> true;
            // ALU K and X: ADD SUB MUL DIV OR AND LSH RSH MOD XOR; NEG
            case 0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c, 0x34, 0x3c, 0x44, 0x4c, 0x54, 0x5c, 0x64, 0x6c, 0x74, 0x7c,
                 0x94, 0x9c, 0xa4, 0xac, 0x84 -> true;
            // JMP: JA; JEQ JGT JGE JSET, K and X
            case 0x05, 0x15, 0x1d, 0x25, 0x2d, 0x35, 0x3d, 0x45, 0x4d -> true;
            // RET K, A; MISC TAX, TXA
            case 0x06, 0x16, 0x07, 0x87 -> true;
            default -> false;
        };
    }

    private static void prologue(Emitter e) {
        e.raw(0x61, R2, R1, 16, 0);        // r2 = ctx->rx_queue_index
        e.raw(0x63, FP, R2, -8, 0);        // *(u32 *)(r10 - 8) = r2
        e.raw(0x61, R6, R1, 0, 0);         // r6 = ctx->data
        e.raw(0x61, R9, R1, 4, 0);         // r9 = ctx->data_end
        e.raw(0xbf, R2, R9, 0, 0);         // r2 = r9
        e.raw(0x1f, R2, R6, 0, 0);         // r2 -= r6: the frame's length
        e.raw(0x7b, FP, R2, -16, 0);       // *(u64 *)(r10 - 16) = r2
        e.mov(A, 0);
        e.mov(X, 0);
        for (int m = 0; m < 16; m++) {
            e.raw(0x7a, FP, 0, -24 - 8 * m, 0); // M[m] = 0
        }
    }

    private static void insn(Emitter e, MemorySegment f, int i, int count, int[] start) {
        long o = 8L * i;
        int code = Short.toUnsignedInt(f.get(JAVA_SHORT, o));
        int jt = Byte.toUnsignedInt(f.get(JAVA_BYTE, o + 2));
        int jf = Byte.toUnsignedInt(f.get(JAVA_BYTE, o + 3));
        int k = f.get(JAVA_INT, o + 4);
        int cls = code & 0x07;
        switch (cls) {
            case 0x00, 0x01 -> load(e, code, k, cls == 0x01); // LD, LDX
            case 0x02 -> e.raw(0x63, FP, A, mem(k), 0);   // ST: M[k] = A
            case 0x03 -> e.raw(0x63, FP, X, mem(k), 0);   // STX
            case 0x04 -> alu(e, code, k);
            case 0x05 -> jump(e, code, jt, jf, k, i, count, start);
            case 0x06 -> {
                int src = code & 0x18;
                if (src == 0x00) { // RET K
                    e.ja(k != 0 ? e.toRedirect() : e.toPass());
                } else if (src == 0x10) { // RET A
                    e.raw(0x56, A, 0, e.rel(e.toRedirect()), 0); // JMP32: if A != 0 -> redirect
                    e.ja(e.toPass());
                } else {
                    throw new UnsupportedOperationException("ret code 0x" + Integer.toHexString(code) + " at " + i);
                }
            }
            case 0x07 -> {
                if (code == 0x07) e.raw(0xbc, X, A, 0, 0);      // TAX: X = A (mov32)
                else if (code == 0x87) e.raw(0xbc, A, X, 0, 0); // TXA
                else throw new UnsupportedOperationException("misc code 0x" + Integer.toHexString(code) + " at " + i);
            }
            default -> throw new AssertionError();
        }
    }

    private static int mem(int k) {
        if (k < 0 || k > 15) throw new UnsupportedOperationException("scratch memory M[" + k + "] (expected: 0..15)");
        return -24 - 8 * k;
    }

    private static void load(Emitter e, int code, int k, boolean ldx) {
        int dst = ldx ? X : A;
        int mode = code & 0xe0, size = code & 0x18;
        int bytes = size == 0x00 ? 4 : size == 0x08 ? 2 : size == 0x10 ? 1 : -1;
        switch (mode) {
            case 0x00 -> e.mov(dst, k);                                 // IMM
            case 0x60 -> e.raw(0x61, dst, FP, mem(k), 0);               // MEM
            case 0x80 -> e.raw(0x61, dst, FP, -16, 0);                  // LEN (u32 load of the saved length)
            case 0x20, 0x40, 0xa0 -> {
                if (bytes < 0 || (ldx && mode != 0xa0) || (!ldx && mode == 0xa0)) {
                    throw new UnsupportedOperationException("load code 0x" + Integer.toHexString(code));
                }
                if (k < 0 || k > MAX_OFF) { // ancillary (SKF_AD_OFF) or past any XDP frame
                    if (k < 0) throw new UnsupportedOperationException("ancillary load at offset " + k);
                    e.ja(e.toPass());
                    return;
                }
                int base = R6;
                if (mode == 0x40) { // IND: X + k
                    // if X > 0x3fff -> pass: past any XDP frame, and a bound the verifier needs on the offset
                    e.raw(0x25, X, 0, e.rel(e.toPass()), 0x3fff);
                    e.raw(0xbf, R2, R6, 0, 0);
                    e.raw(0x0f, R2, X, 0, 0);       // r2 = data + X
                    base = R2;
                }
                e.raw(0xbf, R1, base, 0, 0);
                e.raw(0x07, R1, 0, 0, k + bytes);   // r1 = base + k + size
                e.raw(0x2d, R1, R9, e.rel(e.toPass()), 0); // if r1 > data_end -> pass
                int ld = bytes == 4 ? 0x61 : bytes == 2 ? 0x69 : 0x71;
                if (mode == 0xa0) { // MSH: X = 4 * (P[k] & 0xf)
                    e.raw(0x71, X, base, k, 0);
                    e.raw(0x54, X, 0, 0, 0xf);
                    e.raw(0x64, X, 0, 0, 2);
                    return;
                }
                e.raw(ld, dst, base, k, 0);
                if (bytes > 1) e.raw(0xdc, dst, 0, 0, bytes * 8); // to big-endian: network order as classic BPF reads
            }
            default -> throw new UnsupportedOperationException("load code 0x" + Integer.toHexString(code));
        }
    }

    private static void alu(Emitter e, int code, int k) {
        int op = code & 0xf0;
        boolean x = (code & 0x08) != 0;
        if (op == 0x80) { // NEG
            e.raw(0x84, A, 0, 0, 0);
            return;
        }
        if (op > 0xa0) throw new UnsupportedOperationException("alu code 0x" + Integer.toHexString(code));
        if (x && (op == 0x30 || op == 0x90)) { // classic BPF returns 0 on a division by zero
            e.raw(0x16, X, 0, e.rel(e.toPass()), 0); // JMP32 if X == 0 -> pass
        }
        if (!x && (op == 0x30 || op == 0x90) && k == 0) {
            throw new UnsupportedOperationException("division by the constant 0");
        }
        e.raw(0x04 | op | (x ? 0x08 : 0), A, x ? X : 0, 0, x ? 0 : k);
    }

    private static void jump(Emitter e, int code, int jt, int jf, int k, int i, int count, int[] start) {
        int op = code & 0xf0;
        if (op == 0x00) { // JA
            long t = (long) i + 1 + Integer.toUnsignedLong(k);
            if (t >= count) throw new UnsupportedOperationException("ja past the end at " + i);
            e.ja(e.code == null ? e.n : start[(int) t]);
            return;
        }
        if (op != 0x10 && op != 0x20 && op != 0x30 && op != 0x40) {
            throw new UnsupportedOperationException("jump code 0x" + Integer.toHexString(code));
        }
        int t = i + 1 + jt, f = i + 1 + jf;
        if (t >= count || f >= count) throw new UnsupportedOperationException("jump past the end at " + i);
        boolean x = (code & 0x08) != 0;
        // JMP32: the same operation codes as classic BPF's JMP class, class 0x06
        e.raw(0x06 | op | (x ? 0x08 : 0), A, x ? X : 0, e.rel(e.code == null ? e.n : start[t]), x ? 0 : k);
        e.ja(e.code == null ? e.n : start[f]);
    }

    /** Appends eBPF instructions (counts only when {@code code} is null: the first pass). */
    private static final class Emitter {
        final byte[] code;
        final MemorySegment seg;
        int n;
        int passAt;
        int redirectAt;
        /** Whether some instruction jumps to the pass / redirect ending. */
        boolean usedPass;
        boolean usedRedirect;

        Emitter(byte[] code, int passAt, int redirectAt) {
            this.code = code;
            this.passAt = passAt;
            this.redirectAt = redirectAt;
            this.seg = code == null ? null : MemorySegment.ofArray(code);
        }

        /** The pass ending, as a jump's target. */
        int toPass() {
            usedPass = true;
            return passAt;
        }

        /** The redirect ending, as a jump's target. */
        int toRedirect() {
            usedRedirect = true;
            return redirectAt;
        }

        /** The offset field of a jump at the next instruction to {@code target}. */
        int rel(int target) {
            int off = target - (n + 1);
            if (code != null && (off < 0 || off > Short.MAX_VALUE)) {
                throw new UnsupportedOperationException("jump offset " + off + " (expected: 0.." + Short.MAX_VALUE + ")");
            }
            return off;
        }

        void raw(int op, int dst, int src, int off, int imm) {
            if (seg != null) {
                long o = 8L * n;
                seg.set(JAVA_BYTE, o, (byte) op);
                seg.set(JAVA_BYTE, o + 1, (byte) (dst | (src << 4)));
                seg.set(LE_SHORT, o + 2, (short) off);
                seg.set(LE_INT, o + 4, imm);
            }
            n++;
        }

        void mov(int dst, int imm) {
            raw(0xb4, dst, 0, 0, imm); // mov32: zero-extended
        }

        void ja(int target) {
            raw(0x05, 0, 0, rel(target), 0);
        }

        void exit() {
            raw(0x95, 0, 0, 0, 0);
        }

        void ldxw(int dst, int src, int off) {
            raw(0x61, dst, src, off, 0);
        }

        void ldMapFd(int dst, int fd) {
            raw(0x18, dst, 1, 0, fd); // ld_imm64, src = BPF_PSEUDO_MAP_FD
            raw(0x00, 0, 0, 0, 0);
        }
    }
}
