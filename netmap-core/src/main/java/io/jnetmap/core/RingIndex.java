package io.jnetmap.core;

/**
 * Slot-index arithmetic of a ring of {@code n} slots, in one place (netmap's {@code nm_ring_next},
 * {@code nm_ring_space}): every module steps through a ring with these, never with the arithmetic written
 * out. {@code n} need not be a power of two, so indices wrap by comparison, not by mask. None of these
 * checks its arguments (they run per slot); indices are in {@code 0..n-1}.
 *
 * <p>{@link Ring} and the backend's ring state offer the same operations bound to their own size.
 */
public final class RingIndex {
    private RingIndex() {
    }

    /** The slot after {@code i}. */
    public static int next(int i, int n) {
        return i + 1 == n ? 0 : i + 1;
    }

    /** The slot before {@code i}. */
    public static int prev(int i, int n) {
        return i == 0 ? n - 1 : i - 1;
    }

    /** {@code i + k} modulo {@code n}, for {@code 0 <= k <= n}. */
    public static int advance(int i, int k, int n) {
        int j = i + k;
        return j >= n ? j - n : j;
    }

    /** Slots from {@code from} forward to {@code to} (0 if equal): {@code to - from} modulo {@code n}. */
    public static int distance(int from, int to, int n) {
        int d = to - from;
        return d < 0 ? d + n : d;
    }

    /**
     * True if {@code x} is a slot index ({@code 0..n-1}) lying in the circular interval
     * {@code [lo, hi]}, both ends included: the check of a {@code head}, {@code cur} or {@code tail}
     * written by the other side.
     */
    public static boolean within(int lo, int x, int hi, int n) {
        if (x < 0 || x >= n) {
            return false;
        }
        return lo <= hi ? lo <= x && x <= hi : x >= lo || x <= hi;
    }
}
