package io.jnetmap.capture;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Locale;

/**
 * A classic BPF program (linux/filter.h {@code struct sock_filter}): {@code code}, {@code jt}, {@code jf},
 * {@code k} per instruction, as the kernel's SO_ATTACH_FILTER takes it and as {@code tcpdump -d} prints it.
 * Validated when built: at most {@link #MAX_INSNS} instructions, known opcodes, jumps inside the program
 * (conditional ones forward; {@code ja} backward too, as libpcap's {@code protochain} loop needs, which
 * the kernel's classic BPF refuses: see {@link #hasBackwardJump()}), scratch cells 0..15, the last
 * instruction a return.
 */
public final class Bpf {
    public static final int MAX_INSNS = 4096;
    public static final int MEMWORDS = 16;

    // classes
    public static final int LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03, ALU = 0x04, JMP = 0x05, RET = 0x06, MISC = 0x07;
    // sizes
    public static final int W = 0x00, H = 0x08, B = 0x10;
    // modes
    public static final int IMM = 0x00, ABS = 0x20, IND = 0x40, MEM = 0x60, LEN = 0x80, MSH = 0xa0;
    // alu ops
    public static final int ADD = 0x00, SUB = 0x10, MUL = 0x20, DIV = 0x30, OR = 0x40, AND = 0x50, LSH = 0x60,
            RSH = 0x70, NEG = 0x80, MOD = 0x90, XOR = 0xa0;
    // jumps
    public static final int JA = 0x00, JEQ = 0x10, JGT = 0x20, JGE = 0x30, JSET = 0x40;
    // sources
    public static final int K = 0x00, X = 0x08, A = 0x10;
    // misc
    public static final int TAX = 0x00, TXA = 0x80;

    private final short[] code;
    private final byte[] jt;
    private final byte[] jf;
    private final int[] k;

    /** One instruction. */
    public record Insn(int code, int jt, int jf, int k) {
        public static Insn stmt(int code, int k) {
            return new Insn(code, 0, 0, k);
        }

        public static Insn jump(int code, int k, int jt, int jf) {
            return new Insn(code, jt, jf, k);
        }

        // Written out: a record's own equals/hashCode/toString are bootstrapped through ObjectMethods and
        // method handles on first use, some 10 ms of every capture's start (the compiler keys blocks by toString).
        @Override
        public boolean equals(Object o) {
            return o instanceof Insn i && i.code == code && i.jt == jt && i.jf == jf && i.k == k;
        }

        @Override
        public int hashCode() {
            return ((code * 31 + jt) * 31 + jf) * 31 + k;
        }

        @Override
        public String toString() {
            return new StringBuilder(48).append("Insn[code=").append(code).append(", jt=").append(jt).append(", jf=").append(jf)
                    .append(", k=").append(k).append(']').toString();
        }
    }

    public Bpf(Insn... insns) {
        int n = insns.length;
        if (n == 0 || n > MAX_INSNS) {
            throw new IllegalArgumentException("instructions=" + n + " (expected: 1.." + MAX_INSNS + ")");
        }
        code = new short[n];
        jt = new byte[n];
        jf = new byte[n];
        k = new int[n];
        for (int i = 0; i < n; i++) {
            Insn in = insns[i];
            code[i] = (short) in.code();
            jt[i] = (byte) in.jt();
            jf[i] = (byte) in.jf();
            k[i] = in.k();
            validate(i, in, n);
        }
        if (cls(code[n - 1]) != RET) {
            throw new IllegalArgumentException("instruction " + (n - 1) + " is not a return (expected: a program ending in ret)");
        }
    }

    private static void validate(int i, Insn in, int n) {
        int c = in.code();
        String bad = null;
        switch (cls(c)) {
            case LD -> {
                int mode = c & 0xe0, size = c & 0x18;
                if (size == 0x18 || !(mode == IMM || mode == ABS || mode == IND || mode == MEM || mode == LEN)) {
                    bad = "ld";
                } else if (mode == MEM && (in.k() < 0 || in.k() >= MEMWORDS)) {
                    bad = "scratch cell";
                }
            }
            case LDX -> {
                int mode = c & 0xe0;
                if (!(c == (LDX | W | IMM) || c == (LDX | W | MEM) || c == (LDX | W | LEN) || c == (LDX | B | MSH))) {
                    bad = "ldx";
                } else if (mode == MEM && (in.k() < 0 || in.k() >= MEMWORDS)) {
                    bad = "scratch cell";
                }
            }
            case ST, STX -> {
                if ((c & ~0x07) != 0 || in.k() < 0 || in.k() >= MEMWORDS) {
                    bad = "store";
                }
            }
            case ALU -> {
                int op = c & 0xf0;
                if (op > XOR || (c & 0x08) != 0 && op == NEG) {
                    bad = "alu";
                } else if ((op == DIV || op == MOD) && (c & 0x08) == K && in.k() == 0) {
                    bad = "division by constant 0";
                }
            }
            case JMP -> {
                int op = c & 0xf0;
                if (op > JSET) {
                    bad = "jump";
                } else if (op == JA) {
                    long target = (long) i + 1 + in.k();
                    if (target < 0 || target >= n) {
                        bad = "jump target";
                    }
                } else if (in.jt() < 0 || in.jt() > 255 || in.jf() < 0 || in.jf() > 255
                        || i + 1 + in.jt() >= n || i + 1 + in.jf() >= n) {
                    bad = "jump target";
                }
            }
            case RET -> {
                int src = c & 0x18;
                if (src != K && src != A && src != X) {
                    bad = "ret";
                }
            }
            default -> {
                if (c != (MISC | TAX) && c != (MISC | TXA)) {
                    bad = "misc";
                }
            }
        }
        if (bad != null) {
            throw new IllegalArgumentException("instruction " + i + " " + in + ": invalid " + bad);
        }
    }

    static int cls(int code) {
        return code & 0x07;
    }

    public int length() {
        return code.length;
    }

    public int code(int i) {
        return code[i] & 0xffff;
    }

    public int jt(int i) {
        return jt[i] & 0xff;
    }

    public int jf(int i) {
        return jf[i] & 0xff;
    }

    public int k(int i) {
        return k[i];
    }

    /**
     * Whether a {@code ja} jumps backward (a loop: libpcap's {@code protochain}). The Linux kernel's classic
     * BPF and the XDP translation take forward jumps only, so such a program runs in the JVM, as libpcap
     * runs it in user space; there every packet is held to {@link BpfInterpreter#MAX_BACKWARD_JUMPS}.
     */
    public boolean hasBackwardJump() {
        for (int i = 0; i < length(); i++) {
            if (code(i) == (JMP | JA) && k[i] < 0) {
                return true;
            }
        }
        return false;
    }

    public Insn insn(int i) {
        return new Insn(code(i), jt(i), jf(i), k(i));
    }

    /** The program as {@code struct sock_fprog}'s filter array: 8 bytes per instruction, native order. */
    public MemorySegment toSockFilter(Arena arena) {
        MemorySegment s = arena.allocate(8L * code.length, 8);
        for (int i = 0; i < code.length; i++) {
            s.set(ValueLayout.JAVA_SHORT, 8L * i, code[i]);
            s.set(ValueLayout.JAVA_BYTE, 8L * i + 2, jt[i]);
            s.set(ValueLayout.JAVA_BYTE, 8L * i + 3, jf[i]);
            s.set(ValueLayout.JAVA_INT, 8L * i + 4, k[i]);
        }
        return s;
    }

    /** As {@code tcpdump -d} prints it: one line per instruction. */
    public String dump() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < code.length; i++) {
            sb.append(image(i)).append('\n');
        }
        return sb.toString();
    }

    /** As {@code tcpdump -ddd} prints it: the count, then "code jt jf k" in decimal. */
    public String dumpDecimal() {
        StringBuilder sb = new StringBuilder().append(code.length).append('\n');
        for (int i = 0; i < code.length; i++) {
            sb.append(code(i)).append(' ').append(jt(i)).append(' ').append(jf(i)).append(' ').append(Integer.toUnsignedString(k[i])).append('\n');
        }
        return sb.toString();
    }

    /** One instruction as libpcap's bpf_image() renders it. */
    /** SKF_AD_OFF (linux/filter.h): absolute loads from here on read the kernel's metadata of the packet. */
    public static final int ANCILLARY_BASE = -0x1000;

    /** Whether {@code k} of an absolute load names ancillary data (kernel metadata, not packet bytes). */
    public static boolean isAncillary(int k) {
        return Integer.compareUnsigned(k, ANCILLARY_BASE) >= 0;
    }

    /**
     * Whether the program reads ancillary data (packet direction, a VLAN tag kept beside the frame):
     * only the Linux kernel's socket filter has it.
     */
    public boolean readsAncillary() {
        for (int i = 0; i < length(); i++) {
            int c = code(i);
            if (cls(c) == LD && (c & 0xe0) == ABS && isAncillary(k[i])) {
                return true;
            }
        }
        return false;
    }

    /** Ancillary field SKF_AD_PKTTYPE: the socket's packet type (sll_pkttype). */
    public static final int PKTTYPE = ANCILLARY_BASE + 4;
    /** sll_pkttype values: a frame for this host, and one this host sent. */
    public static final int PACKET_HOST = 0, PACKET_OUTGOING = 4;

    /**
     * This program for packets whose type (direction) is known: each load of SKF_AD_PKTTYPE replaced by
     * the constant {@code pkttype} ({@link #PACKET_HOST} for a packet a port received,
     * {@link #PACKET_OUTGOING} for one it sent), so {@code inbound} and {@code outbound} run in the JVM.
     * The program itself if it reads no packet type.
     */
    public Bpf withPacketType(int pkttype) {
        Insn[] out = new Insn[length()];
        boolean changed = false;
        for (int i = 0; i < out.length; i++) {
            Insn in = insn(i);
            int c = in.code();
            if (cls(c) == LD && (c & 0xe0) == ABS && in.k() == PKTTYPE) {
                in = Insn.stmt(LD | IMM, pkttype);
                changed = true;
            }
            out[i] = in;
        }
        return changed ? new Bpf(out) : this;
    }

    /** An absolute load's operand as tcpdump -d prints it: the offset, or the ancillary field's name. */
    private static String absOperand(int k) {
        if (!isAncillary(k)) {
            return Integer.toString(k);
        }
        return switch (k - ANCILLARY_BASE) {
            case 0 -> "proto";
            case 4 -> "type";
            case 8 -> "ifidx";
            case 12 -> "nla";
            case 16 -> "nlan";
            case 20 -> "mark";
            case 24 -> "queue";
            case 28 -> "hatype";
            case 32 -> "rxhash";
            case 36 -> "cpu";
            case 44 -> "vlan_tci";
            case 48 -> "vlanp";
            case 52 -> "poff";
            default -> Integer.toString(k);
        };
    }

    public String image(int n) {
        int c = code(n);
        int kk = k[n];
        String op;
        String operand;
        String hex = "#0x" + Integer.toHexString(kk);
        switch (c) {
            case RET | K -> { op = "ret"; operand = "#" + Integer.toUnsignedString(kk); }
            case RET | A -> { op = "ret"; operand = ""; }
            case RET | X -> { op = "ret"; operand = "x"; }
            case LD | W | ABS -> { op = "ld"; operand = "[" + absOperand(kk) + "]"; }
            case LD | H | ABS -> { op = "ldh"; operand = "[" + absOperand(kk) + "]"; }
            case LD | B | ABS -> { op = "ldb"; operand = "[" + absOperand(kk) + "]"; }
            case LD | W | LEN -> { op = "ld"; operand = "#pktlen"; }
            case LD | W | IND -> { op = "ld"; operand = "[x + " + kk + "]"; }
            case LD | H | IND -> { op = "ldh"; operand = "[x + " + kk + "]"; }
            case LD | B | IND -> { op = "ldb"; operand = "[x + " + kk + "]"; }
            case LD | IMM -> { op = "ld"; operand = hex; }
            case LDX | IMM -> { op = "ldx"; operand = hex; }
            case LDX | MSH | B -> { op = "ldxb"; operand = "4*([" + kk + "]&0xf)"; }
            case LD | MEM -> { op = "ld"; operand = "M[" + kk + "]"; }
            case LDX | MEM -> { op = "ldx"; operand = "M[" + kk + "]"; }
            case LDX | W | LEN -> { op = "ldx"; operand = "#pktlen"; }
            case ST -> { op = "st"; operand = "M[" + kk + "]"; }
            case STX -> { op = "stx"; operand = "M[" + kk + "]"; }
            case JMP | JA -> { op = "ja"; operand = Integer.toString(n + 1 + kk); }
            case MISC | TAX -> { op = "tax"; operand = ""; }
            case MISC | TXA -> { op = "txa"; operand = ""; }
            default -> {
                if (cls(c) == JMP) {
                    op = switch (c & 0xf0) {
                        case JEQ -> "jeq";
                        case JGT -> "jgt";
                        case JGE -> "jge";
                        default -> "jset";
                    };
                    operand = (c & X) != 0 ? "x" : hex;
                } else if (cls(c) == ALU) {
                    int aop = c & 0xf0;
                    op = switch (aop) {
                        case ADD -> "add";
                        case SUB -> "sub";
                        case MUL -> "mul";
                        case DIV -> "div";
                        case MOD -> "mod";
                        case AND -> "and";
                        case OR -> "or";
                        case XOR -> "xor";
                        case LSH -> "lsh";
                        case RSH -> "rsh";
                        default -> "neg";
                    };
                    if (aop == NEG) {
                        operand = "";
                    } else if ((c & X) != 0) {
                        operand = "x";
                    } else if (aop == AND || aop == OR || aop == XOR) {
                        operand = hex;
                    } else {
                        operand = "#" + Integer.toUnsignedString(kk);
                    }
                } else {
                    op = "unimp";
                    operand = "0x" + Integer.toHexString(c);
                }
            }
        }
        if (cls(c) == JMP && c != (JMP | JA)) {
            return String.format(Locale.ROOT, "(%03d) %-8s %-16s jt %d\tjf %d", n, op, operand, n + 1 + jt(n), n + 1 + jf(n));
        }
        return String.format(Locale.ROOT, "(%03d) %-8s %s", n, op, operand);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Bpf b && Arrays.equals(code, b.code) && Arrays.equals(jt, b.jt) && Arrays.equals(jf, b.jf) && Arrays.equals(k, b.k);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(code) * 31 + Arrays.hashCode(k);
    }

    @Override
    public String toString() {
        return dump();
    }
}
