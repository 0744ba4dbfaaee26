package io.jnetmap.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The few bpf(2) commands an AF_XDP port needs, with raw {@code union bpf_attr} images (no libbpf):
 * an XSKMAP, the six-instruction program that redirects each packet to the socket of its receive
 * queue, a bpf link that attaches it (closing the last link fd detaches, so a process that dies leaves
 * nothing behind), and map updates. Used at open and close only; each call allocates its scratch.
 *
 * <pre>
 *   union bpf_attr, the fields used (bytes; the rest of the 144 stays zero, as the kernel requires):
 *   MAP_CREATE   map_type@0 key_size@4 value_size@8 max_entries@12 map_name[16]@28
 *   MAP_*_ELEM   map_fd@0 key*@8 value*@16 flags@24
 *   PROG_LOAD    prog_type@0 insn_cnt@4 insns*@8 license*@16 log_level@24 log_size@28 log_buf*@32
 *                prog_name[16]@48 expected_attach_type@68
 *   LINK_CREATE  prog_fd@0 target_ifindex@4 attach_type@8 flags@12
 * </pre>
 */
public final class Bpf {
    public static final int BPF_MAP_CREATE = 0;
    public static final int BPF_MAP_UPDATE_ELEM = 2;
    public static final int BPF_MAP_DELETE_ELEM = 3;
    public static final int BPF_PROG_LOAD = 5;
    public static final int BPF_LINK_CREATE = 28;

    public static final int BPF_MAP_TYPE_XSKMAP = 17;
    public static final int BPF_PROG_TYPE_XDP = 6;
    /** Attach type of XDP links. */
    public static final int BPF_XDP = 37;

    /** Link flags: generic (skb) XDP, run by the stack for every driver. */
    public static final int XDP_FLAGS_SKB_MODE = 1 << 1;
    /** Link flags: native XDP, run by the driver. */
    public static final int XDP_FLAGS_DRV_MODE = 1 << 2;

    /** Size of the attribute image passed; newer kernels accept it as long as unknown bytes are zero. */
    private static final int ATTR_SIZE = 144;
    private static final int LOG_SIZE = 64 * 1024;
    /** Instructions are little-endian, whatever the JVM's order. */
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Bpf() {
    }

    private static String name16(String s) {
        return s.length() > 15 ? s.substring(0, 15) : s;
    }

    /** BPF_MAP_CREATE. Returns the map fd. */
    public static int mapCreate(int type, int keySize, int valueSize, int maxEntries, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = a.allocate(ATTR_SIZE, 8);
            attr.set(JAVA_INT, 0, type);
            attr.set(JAVA_INT, 4, keySize);
            attr.set(JAVA_INT, 8, valueSize);
            attr.set(JAVA_INT, 12, maxEntries);
            byte[] n = name16(name).getBytes(StandardCharsets.US_ASCII);
            MemorySegment.copy(n, 0, attr, JAVA_BYTE, 28, n.length);
            return call(BPF_MAP_CREATE, attr, "BPF_MAP_CREATE(type=" + type + ", max_entries=" + maxEntries + ")");
        }
    }

    /** BPF_MAP_UPDATE_ELEM with a u32 key and a u32 value (flags BPF_ANY). */
    public static void mapUpdate(int mapFd, int key, int value) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = a.allocate(ATTR_SIZE, 8);
            MemorySegment k = a.allocateFrom(JAVA_INT, key);
            MemorySegment v = a.allocateFrom(JAVA_INT, value);
            attr.set(JAVA_INT, 0, mapFd);
            attr.set(JAVA_LONG, 8, k.address());
            attr.set(JAVA_LONG, 16, v.address());
            call(BPF_MAP_UPDATE_ELEM, attr, "BPF_MAP_UPDATE_ELEM(map=" + mapFd + ", key=" + key + ")");
        }
    }

    /** BPF_MAP_DELETE_ELEM of a u32 key. */
    public static void mapDelete(int mapFd, int key) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = a.allocate(ATTR_SIZE, 8);
            MemorySegment k = a.allocateFrom(JAVA_INT, key);
            attr.set(JAVA_INT, 0, mapFd);
            attr.set(JAVA_LONG, 8, k.address());
            call(BPF_MAP_DELETE_ELEM, attr, "BPF_MAP_DELETE_ELEM(map=" + mapFd + ", key=" + key + ")");
        }
    }

    /**
     * The XDP program {@code return bpf_redirect_map(xskmap, ctx->rx_queue_index, XDP_PASS)}: each
     * packet goes to the AF_XDP socket bound to its receive queue, or on to the stack if the queue has
     * none. Six instructions of 8 bytes: {@code code u8, dst|src<<4 u8, off s16, imm s32}.
     */
    public static byte[] xskRedirectProgram(int xskMapFd) {
        MemorySegment p = MemorySegment.ofArray(new byte[6 * 8]);
        insn(p, 0, 0x61, 2, 1, 16, 0);           // r2 = *(u32 *)(r1 + 16)   xdp_md.rx_queue_index
        insn(p, 1, 0x18, 1, 1, 0, xskMapFd);     // r1 = map (ld_imm64, src = BPF_PSEUDO_MAP_FD)
        insn(p, 2, 0x00, 0, 0, 0, 0);            //      (second half of ld_imm64)
        insn(p, 3, 0xb7, 3, 0, 0, 2);            // r3 = XDP_PASS: the action when the queue has no socket
        insn(p, 4, 0x85, 0, 0, 0, 51);           // call bpf_redirect_map
        insn(p, 5, 0x95, 0, 0, 0, 0);            // exit
        return p.toArray(JAVA_BYTE);
    }

    private static void insn(MemorySegment p, int i, int code, int dst, int src, int off, int imm) {
        long o = 8L * i;
        p.set(JAVA_BYTE, o, (byte) code);
        p.set(JAVA_BYTE, o + 1, (byte) (dst | (src << 4)));
        p.set(LE_SHORT, o + 2, (short) off);
        p.set(LE_INT, o + 4, imm);
    }

    /**
     * BPF_PROG_LOAD. Returns the program fd. If the verifier refuses the program, the load is repeated
     * with a log and the log's text is part of the exception.
     */
    public static int progLoad(int type, byte[] insns, String license, String name, int expectedAttachType) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = a.allocate(ATTR_SIZE, 8);
            MemorySegment code = a.allocate(insns.length, 8);
            MemorySegment.copy(insns, 0, code, JAVA_BYTE, 0, insns.length);
            MemorySegment lic = a.allocateFrom(license);
            attr.set(JAVA_INT, 0, type);
            attr.set(JAVA_INT, 4, insns.length / 8);
            attr.set(JAVA_LONG, 8, code.address());
            attr.set(JAVA_LONG, 16, lic.address());
            byte[] n = name16(name).getBytes(StandardCharsets.US_ASCII);
            MemorySegment.copy(n, 0, attr, JAVA_BYTE, 48, n.length);
            attr.set(JAVA_INT, 68, expectedAttachType);
            String what = "BPF_PROG_LOAD(type=" + type + ", insns=" + insns.length / 8 + ")";
            try {
                return call(BPF_PROG_LOAD, attr, what);
            } catch (SyscallException e) {
                if (e.errno() != Errno.EINVAL && e.errno() != Errno.EACCES) {
                    throw e;
                }
                MemorySegment log = a.allocate(LOG_SIZE);
                attr.set(JAVA_INT, 24, 1);
                attr.set(JAVA_INT, 28, LOG_SIZE);
                attr.set(JAVA_LONG, 32, log.address());
                try {
                    return call(BPF_PROG_LOAD, attr, what);
                } catch (SyscallException e2) {
                    throw new SyscallException(what + " [verifier: " + log.getString(0).strip() + "]", e2.errno());
                }
            }
        }
    }

    /** BPF_LINK_CREATE of an XDP program on interface {@code ifindex}. Returns the link fd. */
    public static int linkCreateXdp(int progFd, int ifindex, int xdpFlags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = a.allocate(ATTR_SIZE, 8);
            attr.set(JAVA_INT, 0, progFd);
            attr.set(JAVA_INT, 4, ifindex);
            attr.set(JAVA_INT, 8, BPF_XDP);
            attr.set(JAVA_INT, 12, xdpFlags);
            return call(BPF_LINK_CREATE, attr, "BPF_LINK_CREATE(ifindex=" + ifindex + ", xdp_flags=" + xdpFlags + ")");
        }
    }

    private static int call(int cmd, MemorySegment attr, String what) {
        try {
            return Linux.bpf(cmd, attr, ATTR_SIZE);
        } catch (SyscallException e) {
            throw new SyscallException("bpf(" + what + ")", e.errno());
        }
    }
}
