package io.jnetmap.vxlan;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Learned remote tunnel endpoints by inner source MAC (Linux's vxlan fdb): open addressing, fixed
 * size, no allocation. One writer at a time (the port's receive path, under its socket's lock), readers
 * on any thread (the port's send path) without a lock: a reader takes an entry only if its key is the
 * same before and after it read the value; a writer replacing a key clears it, writes the value, then
 * writes the new key, each store a release. Entries older than the age are ignored and reused.
 */
final class MacTable {
    private static final VarHandle AT = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int PROBES = 8;

    private final long[] keys;
    /** remote IPv4 << 32 | seconds stamp. */
    private final long[] vals;
    private final int mask;
    private final long ageSeconds;

    MacTable(int capacity, int ageSeconds) {
        int c = Integer.highestOneBit(Math.max(16, capacity - 1)) << 1;
        this.keys = new long[c];
        this.vals = new long[c];
        this.mask = c - 1;
        this.ageSeconds = ageSeconds;
    }

    /** Key of a MAC (48 bits): bit 48 set so 0 means empty. */
    static long key(long mac) {
        return mac | 1L << 48;
    }

    private int home(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 40) & mask;
    }

    /** The remote (host-order IPv4) for {@code mac}, or 0 when unknown or aged out. */
    int lookup(long mac, long nowSeconds) {
        long k = key(mac);
        int i = home(k);
        for (int n = 0; n < PROBES; n++, i = (i + 1) & mask) {
            long kk = (long) AT.getAcquire(keys, i);
            if (kk == k) {
                long v = (long) AT.getAcquire(vals, i);
                if ((long) AT.getAcquire(keys, i) != k) {
                    return 0;
                }
                long stamp = v & 0xffffffffL;
                return nowSeconds - stamp <= ageSeconds ? (int) (v >>> 32) : 0;
            }
            if (kk == 0) {
                return 0;
            }
        }
        return 0;
    }

    /** Learns {@code mac} behind {@code remote} (single writer). */
    void learn(long mac, int remote, long nowSeconds) {
        long k = key(mac);
        long v = (long) remote << 32 | (nowSeconds & 0xffffffffL);
        int i = home(k);
        int free = -1;
        for (int n = 0; n < PROBES; n++, i = (i + 1) & mask) {
            long kk = keys[i];
            if (kk == k) {
                if (vals[i] != v) {
                    AT.setRelease(vals, i, v);
                }
                return;
            }
            if (free < 0 && (kk == 0 || nowSeconds - (vals[i] & 0xffffffffL) > ageSeconds)) {
                free = i;
            }
        }
        if (free < 0) {
            free = home(k); // full neighbourhood: evict the home entry
        }
        AT.setRelease(keys, free, 0L);
        AT.setRelease(vals, free, v);
        AT.setRelease(keys, free, k);
    }

    /** Live entries, MAC text -> remote (not for the hot path). */
    Map<String, Integer> snapshot(long nowSeconds) {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (int i = 0; i <= mask; i++) {
            long k = (long) AT.getAcquire(keys, i);
            long v = (long) AT.getAcquire(vals, i);
            if (k != 0 && nowSeconds - (v & 0xffffffffL) <= ageSeconds) {
                out.put(macText(k & 0xffffffffffffL), (int) (v >>> 32));
            }
        }
        return out;
    }

    static String macText(long mac) {
        StringBuilder sb = new StringBuilder(17);
        for (int b = 5; b >= 0; b--) {
            sb.append(String.format("%02x", (mac >>> (8 * b)) & 0xff));
            if (b > 0) {
                sb.append(':');
            }
        }
        return sb.toString();
    }
}
