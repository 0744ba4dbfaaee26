package io.jnetmap.middlebox;

/**
 * A hash map from a two-long key to an int, open addressing with linear probing and backward-shift
 * deletion: no allocation after construction, no tombstones. One thread at a time.
 */
final class FlowTable {
    static final int ABSENT = -1;
    private final long[] k1;
    private final long[] k2;
    private final int[] val;
    private final int mask;
    private int size;

    FlowTable(int capacity) {
        int n = Integer.highestOneBit(Math.max(16, capacity) * 2 - 1) * 2; // load factor <= 1/2
        k1 = new long[n];
        k2 = new long[n];
        val = new int[n];
        java.util.Arrays.fill(val, ABSENT);
        mask = n - 1;
    }

    int size() {
        return size;
    }

    private int home(long a, long b) {
        return (int) FlowHash.mix(a * 0x9e3779b97f4a7c15L + b) & mask;
    }

    int get(long a, long b) {
        for (int i = home(a, b); ; i = (i + 1) & mask) {
            int v = val[i];
            if (v == ABSENT) {
                return ABSENT;
            }
            if (k1[i] == a && k2[i] == b) {
                return v;
            }
        }
    }

    /** Maps the key to {@code v} (replacing any value). The caller keeps size under capacity. */
    void put(long a, long b, int v) {
        for (int i = home(a, b); ; i = (i + 1) & mask) {
            if (val[i] == ABSENT) {
                k1[i] = a;
                k2[i] = b;
                val[i] = v;
                size++;
                return;
            }
            if (k1[i] == a && k2[i] == b) {
                val[i] = v;
                return;
            }
        }
    }

    void remove(long a, long b) {
        int i = home(a, b);
        while (true) {
            if (val[i] == ABSENT) {
                return;
            }
            if (k1[i] == a && k2[i] == b) {
                break;
            }
            i = (i + 1) & mask;
        }
        size--;
        // shift back the entries that probed past slot i
        int j = i;
        while (true) {
            val[i] = ABSENT;
            while (true) {
                j = (j + 1) & mask;
                if (val[j] == ABSENT) {
                    return;
                }
                int h = home(k1[j], k2[j]);
                // move j to i unless its home lies cyclically in (i, j]
                if (i <= j ? (i < h && h <= j) : (i < h || h <= j)) {
                    continue;
                }
                break;
            }
            k1[i] = k1[j];
            k2[i] = k2[j];
            val[i] = val[j];
            i = j;
        }
    }
}
