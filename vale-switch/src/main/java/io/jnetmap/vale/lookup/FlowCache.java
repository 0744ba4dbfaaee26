package io.jnetmap.vale.lookup;

import io.jnetmap.vale.LookupModule;
import io.jnetmap.vale.Packet;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A flow cache in front of any {@link LookupModule} (the fast path of the forwarding-optimisation notes):
 * the whole decision (destination and cookie) of the module is kept per flow; a hit skips the
 * module, a miss asks it and remembers the answer.
 *
 * <p>A flow is: source port, Ethernet destination, source and type, and for IPv4 the version and
 * header length, source and destination addresses, protocol, whether the TTL is at most 1, and the
 * TCP/UDP ports of unfragmented packets. An entry is valid only while the module's
 * {@link LookupModule#version()} is what it was when the entry was made, so route changes, learned or moved
 * addresses and aged entries invalidate the cache at once. What a module does besides deciding (the
 * learning bridge learning source addresses) does not happen on a hit: a cached bridge learns a
 * flow's source on the flow's first packet, and relearns after any change.
 *
 * <p>The table is direct-mapped, one 64-byte entry per flow hash, shared by every forwarding thread.
 * Each entry is guarded by a sequence number (a seqlock): a reader takes the entry only if the number
 * was even and unchanged across its reads, a writer that cannot make it odd at once skips the insert,
 * so a reader never uses half of one flow's entry and half of another's.
 */
public final class FlowCache implements LookupModule {
    public static final int DEFAULT_ENTRIES = 1 << 14;
    private static final int STRIDE = 8;
    private static final int SEQ = 0;
    private static final int K0 = 1;
    private static final int K1 = 2;
    private static final int K2 = 3;
    private static final int K3 = 4;
    private static final int DECISION = 5;
    private static final int VERSION = 6;
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    private final LookupModule inner;
    private final long[] table;
    private final int mask;
    private final LongAdder misses = new LongAdder();
    /** Lookups, counted once per batch by the switch ({@link #batchLookups}), not per packet. */
    private final LongAdder lookups = new LongAdder();
    /** The largest {@link #hits()} reported: hits never seem to go back. */
    private final AtomicLong hitsSeen = new AtomicLong();

    public FlowCache(LookupModule inner) {
        this(inner, DEFAULT_ENTRIES);
    }

    /** @param entries flows kept, a power of two */
    public FlowCache(LookupModule inner, int entries) {
        if (entries < 1 || Integer.bitCount(entries) != 1) {
            throw new IllegalArgumentException("entries=" + entries + " (expected: a power of two)");
        }
        this.inner = inner;
        this.table = new long[entries * STRIDE];
        this.mask = entries - 1;
    }

    public LookupModule inner() {
        return inner;
    }

    /** Lookups the module had to answer (misses and packets too short to cache). */
    public long misses() {
        return misses.sum();
    }

    /**
     * Lookups the cache answered itself: lookups the switch made (counted per batch, at its end) minus
     * {@link #misses()}. Exact when no batch is under way; during traffic it may lag by the batches in
     * flight, never more, and never decreases. Counts only lookups made by a switch.
     */
    public long hits() {
        long l = lookups.sum(); // lookups first: a batch's misses are counted before its lookups
        long h = l - misses.sum();
        return hitsSeen.accumulateAndGet(h, Math::max);
    }

    @Override
    public void batchLookups(int n) {
        lookups.add(n); // (the inner module saw only the misses: it is not told)
    }

    @Override
    public String name() {
        return "flow-cache+" + inner.name();
    }

    @Override
    public int lookup(Packet p) {
        int len = p.length();
        if (len < 14) {
            misses.increment();
            return inner.lookup(p);
        }
        int w12 = p.u32(12); // EtherType, IPv4 version and header length, TOS
        int type = w12 >>> 16;
        long k0 = p.dstMac() << 16 | type;
        long k1 = p.srcMac() << 8 | p.srcPort();
        long k2 = 0;
        long k3 = 0;
        if (type == 0x0800 && len >= 34) {
            int vihl = (w12 >>> 8) & 0xff;
            int ihl = (vihl & 15) * 4;
            long w20 = p.u64(20); // fragment, TTL, protocol, checksum, ...
            int proto = (int) (w20 >>> 32) & 0xff;
            k2 = p.u64(26); // source and destination addresses
            k3 = (long) vihl << 48 | (long) proto << 40 | (((w20 >>> 40) & 0xff) <= 1 ? 1L << 32 : 0)
                    | (len >= 14 + ihl ? 1L << 33 : 0);
            if ((proto == 6 || proto == 17) && ((w20 >>> 48) & 0x3fff) == 0 && ihl >= 20 && len >= 14 + ihl + 4) {
                k3 |= p.u32(14 + ihl) & 0xffffffffL;
            }
        }
        long version = inner.version();
        int e = (hash(k0, k1, k2, k3) & mask) * STRIDE;
        long[] t = table;
        long s = (long) LONGS.getAcquire(t, e + SEQ);
        if ((s & 1) == 0 && t[e + K0] == k0 && t[e + K1] == k1 && t[e + K2] == k2 && t[e + K3] == k3
                && t[e + VERSION] == version) {
            long d = t[e + DECISION];
            VarHandle.loadLoadFence(); // the reads above before the re-check below
            if ((long) LONGS.getOpaque(t, e + SEQ) == s) {
                p.setCookie((int) (d >>> 32));
                return (int) d;
            }
        }
        misses.increment();
        int dst = inner.lookup(p);
        if ((s & 1) == 0 && LONGS.compareAndSet(t, e + SEQ, s, s + 1)) {
            t[e + K0] = k0;
            t[e + K1] = k1;
            t[e + K2] = k2;
            t[e + K3] = k3;
            t[e + DECISION] = (long) p.cookie() << 32 | (dst & 0xffffffffL);
            t[e + VERSION] = version;
            // ordered store -> a reader that sees the new even number sees the whole entry
            LONGS.setRelease(t, e + SEQ, s + 2);
        }
        return dst;
    }

    private static int hash(long k0, long k1, long k2, long k3) {
        long h = k0 * 0x9E3779B97F4A7C15L ^ k1 * 0xC2B2AE3D27D4EB4FL ^ k2 * 0x165667B19E3779F9L ^ k3 * 0x27D4EB2F165667C5L;
        return (int) (h ^ h >>> 29 ^ h >>> 47);
    }

    @Override
    public boolean rewrites() {
        return inner.rewrites();
    }

    @Override
    public void rewrite(MemorySegment src, long srcOffset, MemorySegment dst, long dstOffset, int len, int dstPort,
                        int cookie) {
        inner.rewrite(src, srcOffset, dst, dstOffset, len, dstPort, cookie);
    }

    @Override
    public long version() {
        return inner.version();
    }

    @Override
    public void portAttached(int port, String name) {
        inner.portAttached(port, name);
    }

    @Override
    public void portDetached(int port) {
        inner.portDetached(port);
    }
}
