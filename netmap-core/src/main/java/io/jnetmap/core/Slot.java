package io.jnetmap.core;

/** netmap's slot flags ({@code NS_*}), with netmap's values. Slots themselves are accessed through {@link Ring}. */
public final class Slot {
    /** The buffer under the slot changed: set by the user after swapping, and by backends that move buffers. */
    public static final int NS_BUF_CHANGED = 0x0001;
    /** Ask for a TX completion report on this slot. */
    public static final int NS_REPORT = 0x0002;
    /** On a ring with NR_FORWARD: pass the released slot to the peer (NIC to host stack or back). */
    public static final int NS_FORWARD = 0x0004;
    /** Switch ports: do not learn the source address of this packet. */
    public static final int NS_NO_LEARN = 0x0008;
    /** TX on switch ports: the payload is in user memory at {@code ptr}. */
    public static final int NS_INDIRECT = 0x0010;
    /** More fragments of the same packet follow in the next slot. */
    public static final int NS_MOREFRAG = 0x0020;
    /** Monitor rings: the packet was seen on the monitored port's TX side. */
    public static final int NS_TXMON = 0x0040;
    /** Longest packet one slot may describe: {@code len} is a u16. */
    public static final int MAX_LEN = 0xffff;
    /** Most slots one multi-slot packet may span (netmap's NETMAP_MAX_FRAGS). */
    public static final int MAX_FRAGS = 64;

    private Slot() {
    }
}
