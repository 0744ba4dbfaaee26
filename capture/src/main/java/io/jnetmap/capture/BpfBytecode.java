package io.jnetmap.capture;

import java.lang.classfile.ClassFile;
import java.lang.classfile.CodeBuilder;
import java.lang.classfile.Label;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDescs;
import java.lang.constant.MethodTypeDesc;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.nio.ByteOrder;

import static io.jnetmap.capture.Bpf.*;
import static java.lang.constant.ConstantDescs.CD_int;
import static java.lang.constant.ConstantDescs.CD_long;
import static java.lang.constant.ConstantDescs.CD_void;

/**
 * Classic BPF compiled to JVM bytecode with java.lang.classfile: one hidden class per filter, whose
 * {@code run} is the program straight-line, A, X and M[] in locals, every load bounds-checked against the
 * captured length as the interpreter does (the interpreter stays the reference; tests compare the two).
 * A backward {@code ja} becomes a backward goto (a JVM loop) that first counts down a budget of
 * {@link BpfInterpreter#MAX_BACKWARD_JUMPS} and drops the packet when it is spent, as the interpreter does.
 * A program too large for one method falls back to the interpreter.
 */
final class BpfBytecode {
    private static final ClassDesc CD_BPF = ClassDesc.of(Bpf.class.getName());
    private static final ClassDesc CD_FILTER = ClassDesc.of(PacketFilter.class.getName());
    private static final ClassDesc CD_SEGMENT = ClassDesc.of(MemorySegment.class.getName());
    private static final ClassDesc CD_RUNTIME = ClassDesc.of(BpfBytecode.class.getName());
    private static final ClassDesc CD_INTEGER = ClassDesc.of(Integer.class.getName());
    private static final MethodTypeDesc LOAD = MethodTypeDesc.of(CD_int, CD_SEGMENT, CD_long);
    private static final MethodTypeDesc II_I = MethodTypeDesc.of(CD_int, CD_int, CD_int);

    private static final ValueLayout.OfInt BE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort BE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    // locals of run(MemorySegment seg, long off, int caplen, int wirelen)
    private static final int SEG = 1, OFF = 2, CAPLEN = 4, WIRELEN = 5, REG_A = 6, REG_X = 7, MEM0 = 8, TMP = 8 + MEMWORDS,
            LOOPS = TMP + 2;

    private BpfBytecode() {
    }

    // helpers the generated code calls (inlined by the JIT)
    static int ldw(MemorySegment s, long at) {
        return s.get(BE_INT, at);
    }

    static int ldh(MemorySegment s, long at) {
        return s.get(BE_SHORT, at) & 0xffff;
    }

    static int ldb(MemorySegment s, long at) {
        return s.get(ValueLayout.JAVA_BYTE, at) & 0xff;
    }

    static int lsh(int a, int x) {
        return Integer.compareUnsigned(x, 32) < 0 ? a << x : 0;
    }

    static int rsh(int a, int x) {
        return Integer.compareUnsigned(x, 32) < 0 ? a >>> x : 0;
    }

    static PacketFilter compile(Bpf program) {
        try {
            ClassDesc self = ClassDesc.of(BpfBytecode.class.getPackageName() + ".BpfFilter");
            byte[] bytes = ClassFile.of().build(self, clb -> {
                clb.withFlags(ClassFile.ACC_FINAL | ClassFile.ACC_SUPER);
                clb.withInterfaceSymbols(CD_FILTER);
                clb.withField("program", CD_BPF, ClassFile.ACC_PRIVATE | ClassFile.ACC_FINAL);
                clb.withMethodBody("<init>", MethodTypeDesc.of(CD_void, CD_BPF), ClassFile.ACC_PUBLIC, cob -> {
                    cob.aload(0);
                    cob.invokespecial(ConstantDescs.CD_Object, "<init>", MethodTypeDesc.of(CD_void));
                    cob.aload(0);
                    cob.aload(1);
                    cob.putfield(self, "program", CD_BPF);
                    cob.return_();
                });
                clb.withMethodBody("program", MethodTypeDesc.of(CD_BPF), ClassFile.ACC_PUBLIC, cob -> {
                    cob.aload(0);
                    cob.getfield(self, "program", CD_BPF);
                    cob.areturn();
                });
                clb.withMethodBody("run", MethodTypeDesc.of(CD_int, CD_SEGMENT, CD_long, CD_int, CD_int), ClassFile.ACC_PUBLIC,
                        cob -> body(cob, program));
            });
            MethodHandles.Lookup lookup = MethodHandles.lookup().defineHiddenClass(bytes, true);
            return (PacketFilter) lookup.findConstructor(lookup.lookupClass(), java.lang.invoke.MethodType.methodType(void.class, Bpf.class))
                    .invoke(program);
        } catch (IllegalArgumentException e) {
            return new BpfInterpreter(program); // too large for one method
        } catch (Throwable e) {
            throw new IllegalStateException("cannot compile the filter to bytecode: " + e, e);
        }
    }

    private static void body(CodeBuilder cob, Bpf p) {
        int n = p.length();
        Label[] at = new Label[n];
        for (int i = 0; i < n; i++) at[i] = cob.newLabel();
        Label drop = cob.newLabel();
        for (int r = REG_A; r < TMP; r++) {
            cob.iconst_0();
            cob.istore(r);
        }
        if (p.hasBackwardJump()) {
            cob.loadConstant(BpfInterpreter.MAX_BACKWARD_JUMPS);
            cob.istore(LOOPS);
        }
        for (int i = 0; i < n; i++) {
            cob.labelBinding(at[i]);
            int c = p.code(i), k = p.k(i);
            switch (cls(c)) {
                case RET -> {
                    switch (c & 0x18) {
                        case A -> cob.iload(REG_A);
                        case X -> cob.iload(REG_X);
                        default -> cob.loadConstant(k);
                    }
                    cob.ireturn();
                }
                case LD, LDX -> load(cob, c, k, drop);
                case ST -> {
                    cob.iload(REG_A);
                    cob.istore(MEM0 + k);
                }
                case STX -> {
                    cob.iload(REG_X);
                    cob.istore(MEM0 + k);
                }
                case ALU -> alu(cob, c, k, drop);
                case JMP -> {
                    if (c == (JMP | JA)) {
                        if (k < 0) { // a loop: spend one turn of the budget, drop when none is left
                            cob.iinc(LOOPS, -1);
                            cob.iload(LOOPS);
                            cob.iflt(drop);
                        }
                        cob.goto_(at[i + 1 + k]);
                        break;
                    }
                    Label t = at[i + 1 + p.jt(i)], f = at[i + 1 + p.jf(i)];
                    cob.iload(REG_A);
                    if ((c & X) != 0) cob.iload(REG_X); else cob.loadConstant(k);
                    switch (c & 0xf0) {
                        case JEQ -> cob.if_icmpeq(t);
                        case JSET -> {
                            cob.iand();
                            cob.ifne(t);
                        }
                        case JGT -> {
                            cob.invokestatic(CD_INTEGER, "compareUnsigned", II_I);
                            cob.ifgt(t);
                        }
                        default -> {
                            cob.invokestatic(CD_INTEGER, "compareUnsigned", II_I);
                            cob.ifge(t);
                        }
                    }
                    cob.goto_(f);
                }
                default -> {
                    if (c == (MISC | TAX)) {
                        cob.iload(REG_A);
                        cob.istore(REG_X);
                    } else {
                        cob.iload(REG_X);
                        cob.istore(REG_A);
                    }
                }
            }
        }
        cob.labelBinding(drop);
        cob.iconst_0();
        cob.ireturn();
    }

    private static void load(CodeBuilder cob, int c, int k, Label drop) {
        int mode = c & 0xe0;
        int dst = cls(c) == LDX ? REG_X : REG_A;
        switch (mode) {
            case IMM -> cob.loadConstant(k);
            case LEN -> cob.iload(WIRELEN);
            case MEM -> cob.iload(MEM0 + k);
            case ABS, MSH -> {
                int size = mode == MSH ? 1 : (c & 0x18) == W ? 4 : (c & 0x18) == H ? 2 : 1;
                if (k < 0 || k > Integer.MAX_VALUE - 8) {
                    cob.goto_(drop);
                    return;
                }
                cob.iload(CAPLEN);
                cob.loadConstant(k + size);
                cob.if_icmplt(drop);
                cob.aload(SEG);
                cob.lload(OFF);
                cob.loadConstant((long) k);
                cob.ladd();
                cob.invokestatic(CD_RUNTIME, size == 4 ? "ldw" : size == 2 ? "ldh" : "ldb", LOAD);
                if (mode == MSH) {
                    cob.bipush(0xf);
                    cob.iand();
                    cob.iconst_2();
                    cob.ishl();
                }
            }
            default -> { // IND
                int size = (c & 0x18) == W ? 4 : (c & 0x18) == H ? 2 : 1;
                cob.iload(REG_X);
                cob.i2l();
                cob.loadConstant(0xffffffffL);
                cob.land();
                cob.loadConstant(k & 0xffffffffL);
                cob.ladd();
                cob.lstore(TMP);
                cob.lload(TMP);
                cob.loadConstant((long) size);
                cob.ladd();
                cob.iload(CAPLEN);
                cob.i2l();
                cob.lcmp();
                cob.ifgt(drop);
                cob.aload(SEG);
                cob.lload(OFF);
                cob.lload(TMP);
                cob.ladd();
                cob.invokestatic(CD_RUNTIME, size == 4 ? "ldw" : size == 2 ? "ldh" : "ldb", LOAD);
            }
        }
        cob.istore(dst);
    }

    private static void alu(CodeBuilder cob, int c, int k, Label drop) {
        int op = c & 0xf0;
        boolean x = (c & X) != 0;
        if (op == NEG) {
            cob.iload(REG_A);
            cob.ineg();
            cob.istore(REG_A);
            return;
        }
        if (x && (op == DIV || op == MOD)) {
            cob.iload(REG_X);
            cob.ifeq(drop);
        }
        cob.iload(REG_A);
        if (x) cob.iload(REG_X); else cob.loadConstant(k);
        switch (op) {
            case ADD -> cob.iadd();
            case SUB -> cob.isub();
            case MUL -> cob.imul();
            case DIV -> cob.invokestatic(CD_INTEGER, "divideUnsigned", II_I);
            case MOD -> cob.invokestatic(CD_INTEGER, "remainderUnsigned", II_I);
            case AND -> cob.iand();
            case OR -> cob.ior();
            case XOR -> cob.ixor();
            case LSH -> cob.invokestatic(CD_RUNTIME, "lsh", II_I);
            default -> cob.invokestatic(CD_RUNTIME, "rsh", II_I);
        }
        cob.istore(REG_A);
    }
}
