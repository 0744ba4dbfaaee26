package io.jnetmap.capture;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.jnetmap.capture.Bpf.*;

/**
 * The reference: classic BPF run as libpcap's bpf_filter() runs it. A load outside the captured bytes ends
 * the program with 0 (drop), so does a division by X = 0; shifts by 32 or more give 0. {@code ld #pktlen}
 * is the length on the wire. Nothing is allocated per packet (the scratch memory is this object's). M[] starts
 * at 0 on every packet, as in the bytecode (the kernel refuses a program that reads M[] before storing it,
 * libpcap leaves it undefined): never what an earlier packet left. A backward {@code ja} (libpcap's
 * {@code protochain} loop) is followed at most {@link #MAX_BACKWARD_JUMPS} times a packet, then the packet is
 * dropped: libpcap's loop over IPv6 extension headers always advances, but its AH step does not (it sets X
 * from the AH length alone), so a crafted AH header pointing at itself would spin forever.
 */
public final class BpfInterpreter implements PacketFilter {
    private static final ValueLayout.OfInt BE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort BE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN);

    /**
     * Backward jumps one packet may take before it is dropped: a loop that moves its header offset on by
     * 4 bytes or more a turn (libpcap's steps are 8 bytes per IPv6 extension header, 8 or more per AH)
     * walks a whole {@link FilterCompiler#DEFAULT_SNAPLEN}-byte capture in fewer turns.
     */
    public static final int MAX_BACKWARD_JUMPS = FilterCompiler.DEFAULT_SNAPLEN / 4;

    private final short[] code;
    private final int[] jt;
    private final int[] jf;
    private final int[] k;
    private final int[] mem = new int[MEMWORDS];
    private final boolean usesMem;
    private final Bpf program;

    public BpfInterpreter(Bpf program) {
        this.program = program;
        int n = program.length();
        code = new short[n];
        jt = new int[n];
        jf = new int[n];
        k = new int[n];
        boolean m = false;
        for (int i = 0; i < n; i++) {
            int c = program.code(i);
            m |= cls(c) == ST || cls(c) == STX || (cls(c) == LD || cls(c) == LDX) && (c & 0xe0) == MEM;
            code[i] = (short) program.code(i);
            jt[i] = program.jt(i);
            jf[i] = program.jf(i);
            k[i] = program.k(i);
        }
        usesMem = m;
    }

    @Override
    public Bpf program() {
        return program;
    }

    @Override
    public int run(MemorySegment seg, long off, int caplen, int wirelen) {
        int a = 0, x = 0;
        int pc = 0;
        int loops = MAX_BACKWARD_JUMPS;
        int[] m = mem;
        if (usesMem) java.util.Arrays.fill(m, 0);
        while (true) {
            int c = code[pc] & 0xffff;
            int kk = k[pc];
            switch (c) {
                case RET | K: return kk;
                case RET | A: return a;
                case RET | X: return x;
                case LD | W | ABS:
                    if (Integer.compareUnsigned(kk, caplen) > 0 || caplen - kk < 4) return 0;
                    a = seg.get(BE_INT, off + kk);
                    break;
                case LD | H | ABS:
                    if (Integer.compareUnsigned(kk, caplen) > 0 || caplen - kk < 2) return 0;
                    a = seg.get(BE_SHORT, off + kk) & 0xffff;
                    break;
                case LD | B | ABS:
                    if (Integer.compareUnsigned(kk, caplen) >= 0) return 0;
                    a = seg.get(ValueLayout.JAVA_BYTE, off + kk) & 0xff;
                    break;
                case LD | W | LEN: a = wirelen; break;
                case LDX | W | LEN: x = wirelen; break;
                case LD | W | IND: {
                    long p = (x & 0xffffffffL) + (kk & 0xffffffffL);
                    if (p + 4 > caplen) return 0;
                    a = seg.get(BE_INT, off + p);
                    break;
                }
                case LD | H | IND: {
                    long p = (x & 0xffffffffL) + (kk & 0xffffffffL);
                    if (p + 2 > caplen) return 0;
                    a = seg.get(BE_SHORT, off + p) & 0xffff;
                    break;
                }
                case LD | B | IND: {
                    long p = (x & 0xffffffffL) + (kk & 0xffffffffL);
                    if (p >= caplen) return 0;
                    a = seg.get(ValueLayout.JAVA_BYTE, off + p) & 0xff;
                    break;
                }
                case LDX | MSH | B:
                    if (Integer.compareUnsigned(kk, caplen) >= 0) return 0;
                    x = (seg.get(ValueLayout.JAVA_BYTE, off + kk) & 0xf) << 2;
                    break;
                case LD | IMM: a = kk; break;
                case LDX | IMM: x = kk; break;
                case LD | MEM: a = m[kk]; break;
                case LDX | MEM: x = m[kk]; break;
                case ST: m[kk] = a; break;
                case STX: m[kk] = x; break;
                case JMP | JA:
                    if (kk < 0 && --loops < 0) return 0;
                    pc += kk;
                    break;
                case JMP | JGT | K: pc += Integer.compareUnsigned(a, kk) > 0 ? jt[pc] : jf[pc]; break;
                case JMP | JGE | K: pc += Integer.compareUnsigned(a, kk) >= 0 ? jt[pc] : jf[pc]; break;
                case JMP | JEQ | K: pc += a == kk ? jt[pc] : jf[pc]; break;
                case JMP | JSET | K: pc += (a & kk) != 0 ? jt[pc] : jf[pc]; break;
                case JMP | JGT | X: pc += Integer.compareUnsigned(a, x) > 0 ? jt[pc] : jf[pc]; break;
                case JMP | JGE | X: pc += Integer.compareUnsigned(a, x) >= 0 ? jt[pc] : jf[pc]; break;
                case JMP | JEQ | X: pc += a == x ? jt[pc] : jf[pc]; break;
                case JMP | JSET | X: pc += (a & x) != 0 ? jt[pc] : jf[pc]; break;
                case ALU | ADD | X: a += x; break;
                case ALU | SUB | X: a -= x; break;
                case ALU | MUL | X: a *= x; break;
                case ALU | DIV | X:
                    if (x == 0) return 0;
                    a = Integer.divideUnsigned(a, x);
                    break;
                case ALU | MOD | X:
                    if (x == 0) return 0;
                    a = Integer.remainderUnsigned(a, x);
                    break;
                case ALU | AND | X: a &= x; break;
                case ALU | OR | X: a |= x; break;
                case ALU | XOR | X: a ^= x; break;
                case ALU | LSH | X: a = Integer.compareUnsigned(x, 32) < 0 ? a << x : 0; break;
                case ALU | RSH | X: a = Integer.compareUnsigned(x, 32) < 0 ? a >>> x : 0; break;
                case ALU | ADD | K: a += kk; break;
                case ALU | SUB | K: a -= kk; break;
                case ALU | MUL | K: a *= kk; break;
                case ALU | DIV | K: a = Integer.divideUnsigned(a, kk); break;
                case ALU | MOD | K: a = Integer.remainderUnsigned(a, kk); break;
                case ALU | AND | K: a &= kk; break;
                case ALU | OR | K: a |= kk; break;
                case ALU | XOR | K: a ^= kk; break;
                case ALU | LSH | K: a = Integer.compareUnsigned(kk, 32) < 0 ? a << kk : 0; break;
                case ALU | RSH | K: a = Integer.compareUnsigned(kk, 32) < 0 ? a >>> kk : 0; break;
                case ALU | NEG: a = -a; break;
                case MISC | TAX: x = a; break;
                case MISC | TXA: a = x; break;
                default: return 0;
            }
            pc++;
        }
    }
}
