package io.jnetmap.vale;

import io.jnetmap.core.Region;
import io.jnetmap.core.RingIndex;
import io.jnetmap.core.RingLayout;
import io.jnetmap.core.Slot;
import io.jnetmap.core.SlotLayout;
import io.jnetmap.core.SlotWord;
import io.jnetmap.core.spi.SpinLock;
import io.jnetmap.vale.ctl.SwitchFileLayout;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.Supplier;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * Moves packets from one source ring into the switch, VALE's way, in the thread that owns the ring
 * (the port's user inside txsync, or an attached port's polling thread). One per source ring; its
 * scratch arrays make a batch allocation-free.
 *
 * <ol>
 *   <li><b>Batch</b>: up to {@link #BATCH} packets from {@code [from, to)}; the slots of an
 *       {@link Slot#NS_MOREFRAG} chain form one packet; slots with an invalid {@code bufIdx} or
 *       {@code len} (the ring is untrusted) drop their packet.</li>
 *   <li><b>LookupModule</b>: the switch's {@link LookupModule} decides each packet; packets are chained into one
 *       list per destination port, broadcasts into one shared list.</li>
 *   <li><b>Deliver</b>, per destination: lease slots of its ring ({@link DstRing}), copy (or swap
 *       buffer indices, when both rings live in one region) the destination's unicast and broadcast
 *       packets merged in their original order, complete the lease. What does not fit is dropped and
 *       counted ({@link SwitchFileLayout#DROP_FULL}); a back-pressured source instead stops at the first
 *       packet that does not fit and leaves it, and everything after it, in its ring.</li>
 * </ol>
 *
 * <p>{@code seq} is odd while a batch runs: a port leaving the switch waits until every forwarder that
 * may have seen it has moved on (quiescence), so nobody copies into memory that is being released.
 */
final class Forwarder {
    /** Most packets per batch (netmap's bridge_batch). */
    static final int BATCH = 1024;
    /** Internal drop code: the slot's bufIdx or len is invalid, or the chain exceeds Slot.MAX_FRAGS. */
    private static final int DROP_BAD = 259;
    /** Internal drop code: the lookup chose the source port itself (never sent back). */
    private static final int DROP_HAIRPIN = 260;
    private static final int END = -1;
    private static final VarHandle SEQ = VarHandles.field(MethodHandles.lookup(), "seq", long.class);

    /**
     * Per-stage timing for the bench's cost breakdown ({@code -Djnetmap.vale.stages=true}, read by
     * {@code bench/…/ValeCpu} through {@link #STAGE_NS}): off by default, and then folded away by the
     * JIT (a static final false). One {@link System#nanoTime()} per stage per batch, not per packet.
     */
    static final boolean STAGES = Boolean.getBoolean("jnetmap.vale.stages");
    /** Nanoseconds per stage ({@link #STAGE_NAMES}), summed over every forwarder of the process (single-threaded bench only). */
    static final long[] STAGE_NS = new long[7];
    static final String[] STAGE_NAMES = {"batch", "lookup", "lease", "fill", "publish", "account", "packets"};

    /** The switch as of now: read once per batch. */
    private final Supplier<SwitchView> views;
    private final SwitchPort src;
    /** Index of the source ring among its port's rings: picks the destination ring (modulo its count). */
    private final int ringId;
    private final Region region;
    private final MemorySegment mem;
    private final long slots;
    private final long bufPool;
    private final int bufSize;
    private final int numBufs;
    private final int numSlots;

    @SuppressWarnings("unused") // accessed through SEQ
    private volatile long seq;

    // the batch, by packet
    private final int[] pSlot = new int[BATCH];
    /**
     * The packet's first slot as read once in {@link #batch} ({@link SlotWord}: buffer index, length,
     * flags): the later phases decode it from here instead of reading the ring again or keeping one
     * array per field.
     */
    private final long[] pWord = new long[BATCH];
    /**
     * Slots, bytes and longest slot of the packet, one word ({@link #shape}): one line of the batch
     * per 8 packets instead of three arrays.
     */
    private final long[] pShape = new long[BATCH];
    private final int[] pDst = new int[BATCH];
    private final int[] pCookie = new int[BATCH];
    /** Next packet in the same destination list (or the broadcast list). */
    private final int[] pNext = new int[BATCH];
    // per destination port: unicast list and its slot count
    private final int[] dHead = new int[ValeSwitch.MAX_PORTS];
    private final int[] dTail = new int[ValeSwitch.MAX_PORTS];
    private final int[] dSlots = new int[ValeSwitch.MAX_PORTS];
    private final int[] touched = new int[ValeSwitch.MAX_PORTS];
    private int nTouched;
    private int bHead;
    private int bTail;
    private int bSlots;
    // back-pressure, per destination port: slots free when locked, slots the batch's prefix needs,
    // and the lease taken (start, length)
    private final int[] free = new int[ValeSwitch.MAX_PORTS];
    private final int[] need = new int[ValeSwitch.MAX_PORTS];
    private final int[] leaseStart = new int[ValeSwitch.MAX_PORTS];
    private final int[] leaseLen = new int[ValeSwitch.MAX_PORTS];
    private final DstRing[] locked = new DstRing[ValeSwitch.MAX_PORTS];

    /** Packets in the current batch, and whether each of them is one slot (no NS_MOREFRAG chain). */
    private int batchN;
    private boolean batchSingle;
    /** Bytes of the batch's packets (summed in {@link #batch}), and how many of them the lookup dropped. */
    private long batchBytes;
    private int batchDrops;

    private final Packet pkt = new Packet();
    /** Sender counters of the current call, flushed once at its end. */
    private final long[] tx = new long[SwitchFileLayout.TX_COUNTERS];

    Forwarder(Supplier<SwitchView> views, SwitchPort src, RingRef ring, int ringId) {
        this.views = views;
        this.src = src;
        this.ringId = ringId;
        this.region = ring.region();
        this.mem = region.memory();
        this.slots = ring.offset() + RingLayout.SLOTS_OFFSET;
        this.bufPool = region.bufOffset(0);
        this.bufSize = ring.bufSize();
        this.numBufs = region.numBufs();
        this.numSlots = ring.numSlots();
        if (numSlots > io.jnetmap.core.Geometry.MAX_SLOTS) {
            throw new IllegalArgumentException("slots=" + numSlots + " (expected: at most " + io.jnetmap.core.Geometry.MAX_SLOTS + ")");
        }
        java.util.Arrays.fill(dHead, END);
    }

    /** Waits until a batch running now (if any) has finished. Called by a port leaving the switch. */
    void quiesce() {
        long s = lvSeq();
        if ((s & 1) == 0) {
            return;
        }
        int round = 0;
        while (lvSeq() == s) {
            SpinLock.pause(round++);
        }
    }

    private long lvSeq() {
        return (long) SEQ.getVolatile(this);
    }

    /**
     * Forwards the complete packets of source slots {@code [from, to)}. Returns the first slot not
     * consumed: {@code to}, unless the last packet is incomplete (its last slot has NS_MOREFRAG: it
     * waits for the rest) or the source is back-pressured and a destination is full.
     */
    int forward(int from, int to) {
        ControlRequests.runLight(); // before and after the batch: a light control request waits at most one batch time
        long s = (long) SEQ.get(this); // plain: only this thread writes seq
        SEQ.setVolatile(this, s + 1); // volatile store, then volatile read of the view: see ValeSwitch.leave
        try {
            SwitchView view = views.get();
            int self = src.index;
            if (self < 0 || view.byIndex[self] != src) {
                return to; // the port has left the switch: its packets go nowhere
            }
            long now = view.now();
            boolean bp = src.backPressure;
            int pos = from;
            while (pos != to) {
                long t0 = STAGES ? System.nanoTime() : 0;
                int n = batch(pos, to);
                if (n == 0) {
                    break; // only an incomplete packet remains
                }
                int cut = n;
                long t1 = STAGES ? System.nanoTime() : 0;
                lookupAll(n, view, self, now);
                if (STAGES) {
                    long t2 = System.nanoTime();
                    STAGE_NS[0] += t1 - t0;
                    STAGE_NS[1] += t2 - t1;
                    STAGE_NS[6] += n;
                }
                if (bp) {
                    cut = deliverBackPressured(n, view, self);
                } else {
                    deliverAll(n, view, self);
                }
                long t3 = STAGES ? System.nanoTime() : 0;
                account(cut);
                if (STAGES) {
                    STAGE_NS[5] += System.nanoTime() - t3;
                }
                if (cut < n) {
                    tx[SwitchFileLayout.BP_STALLS]++;
                    pos = pSlot[cut];
                    break;
                }
                pos = RingIndex.advance(pSlot[n - 1], frags(n - 1), numSlots);
            }
            long t4 = STAGES ? System.nanoTime() : 0;
            flushCounters(view.stats, self);
            if (STAGES) {
                STAGE_NS[5] += System.nanoTime() - t4;
            }
            return pos;
        } finally {
            SEQ.setRelease(this, s + 2); // ordered store -> a quiescing thread sees the batch over
            ControlRequests.runLight(); // (and not only when the housekeeper gets a CPU)
        }
    }

    // ----------------------------------------------------------------------------------------------
    // phase 0: batch

    /** Gathers packets from {@code pos}; returns how many (0 if only an incomplete chain remains). */
    private int batch(int pos, int to) {
        int n = 0;
        int s = pos;
        long bytes = 0;
        batchSingle = true;
        while (s != to && n < BATCH) {
            long sl = SlotLayout.offset(slots, s);
            long w = mem.get(JAVA_LONG_UNALIGNED, sl);
            int b = SlotWord.bufIdx(w);
            int len = SlotWord.len(w);
            int flags = SlotWord.flags(w);
            boolean bad = b < 2 || b >= numBufs || len > bufSize;
            int next = RingIndex.next(s, numSlots);
            pSlot[n] = s;
            pWord[n] = w;
            if ((flags & Slot.NS_MOREFRAG) == 0) {
                bytes += len;
                pShape[n] = shape(1, len, len);
                pDst[n] = bad ? DROP_BAD : 0;
                n++;
                s = next;
                continue;
            }
            batchSingle = false;
            int frags = 1;
            int total = len;
            int maxFrag = len;
            int more;
            do {
                if (next == to) {
                    batchBytes = bytes;
                    return n; // incomplete: its last slot says more follow, wait for them
                }
                sl = SlotLayout.offset(slots, next);
                long fw = mem.get(JAVA_LONG_UNALIGNED, sl);
                int fb = SlotWord.bufIdx(fw);
                int flen = SlotWord.len(fw);
                more = SlotWord.flags(fw) & Slot.NS_MOREFRAG;
                bad |= fb < 2 || fb >= numBufs || flen > bufSize;
                total += flen;
                maxFrag = Math.max(maxFrag, flen);
                frags++;
                next = RingIndex.next(next, numSlots);
            } while (more != 0);
            pShape[n] = shape(frags, total, maxFrag);
            pDst[n] = bad || frags > Slot.MAX_FRAGS ? DROP_BAD : 0;
            bytes += total;
            n++;
            s = next;
        }
        batchBytes = bytes;
        return n;
    }

    // ----------------------------------------------------------------------------------------------
    // phase 1: lookup

    private void lookupAll(int n, SwitchView view, int self, long now) {
        LookupModule lookup = view.lookup;
        SwitchPort[] byIndex = view.byIndex;
        reset();
        Packet p = pkt;
        p.mem = mem;
        p.srcPort = self;
        p.now = now;
        boolean alone = view.list.length < 2;
        int bad = 0;
        int drops = 0;
        boolean rewrite = lookup.rewrites();
        int d0 = END; // the destination of every packet so far, while they all have the same
        boolean mixed = false;
        for (int i = 0; i < n; i++) {
            if (pDst[i] == DROP_BAD) {
                bad++;
                drops++;
                mixed = true;
                continue;
            }
            long w = pWord[i];
            p.offset = bufOffset(w);
            p.len = SlotWord.len(w);
            p.flags = SlotWord.flags(w);
            p.totalLen = totalLen(i);
            p.frags = frags(i);
            p.cookie = 0;
            int d = lookup.lookup(p);
            if (rewrite) {
                pCookie[i] = p.cookie; // only a rewriting module reads it back
            }
            if (d < ValeSwitch.MAX_PORTS) {
                if (d == self) {
                    d = DROP_HAIRPIN;
                } else if (d < 0 || byIndex[d] == null) {
                    d = LookupModule.NO_PORT;
                }
            } else if (d == LookupModule.BROADCAST && alone) {
                d = LookupModule.NO_PORT; // flooded to nobody: the switch has no other port
            }
            if (d >= LookupModule.NO_PORT) {
                drops++;
            }
            if (i == 0) {
                d0 = d;
            } else if (d != d0) {
                mixed = true;
            }
            pDst[i] = d;
        }
        if (!mixed && d0 < ValeSwitch.MAX_PORTS) {
            oneList(n, d0); // the common case: the whole batch to one port, in order
        } else {
            lists(n);
        }
        lookup.batchLookups(n - bad);
        batchN = n;
        batchDrops = drops;
    }

    /** Chains every packet of the batch, in order, into port {@code d}'s list. */
    private void oneList(int n, int d) {
        int[] next = pNext;
        for (int i = 0; i < n - 1; i++) {
            next[i] = i + 1;
        }
        next[n - 1] = END;
        dHead[d] = 0;
        dTail[d] = n - 1;
        touched[nTouched++] = d;
        int slots = n;
        if (!batchSingle) {
            slots = 0;
            for (int i = 0; i < n; i++) {
                slots += frags(i);
            }
        }
        dSlots[d] = slots;
    }

    /** Chains each packet into its destination's list, or the broadcast list, by {@link #pDst}. */
    private void lists(int n) {
        for (int i = 0; i < n; i++) {
            pNext[i] = END;
            int d = pDst[i];
            if (d < ValeSwitch.MAX_PORTS) {
                if (dHead[d] == END) {
                    dHead[d] = i;
                    touched[nTouched++] = d;
                } else {
                    pNext[dTail[d]] = i;
                }
                dTail[d] = i;
                dSlots[d] += frags(i);
            } else if (d == LookupModule.BROADCAST) {
                if (bHead == END) {
                    bHead = i;
                } else {
                    pNext[bTail] = i;
                }
                bTail = i;
                bSlots += frags(i);
            }
        }
    }

    // ----------------------------------------------------------------------------------------------
    // phase 2: deliver

    /** Drop semantics (VALE's): each destination takes what fits; the rest is dropped and counted. */
    private void deliverAll(int n, SwitchView view, int self) {
        if (bHead == END) {
            for (int t = 0; t < nTouched; t++) {
                int d = touched[t];
                deliverTo(view, view.byIndex[d].dst(ringId), dHead[d], END, dSlots[d], n);
            }
        } else {
            for (SwitchPort dp : view.list) {
                int d = dp.index;
                if (d != self) {
                    deliverTo(view, dp.dst(ringId), dHead[d], bHead, dSlots[d] + bSlots, n);
                }
            }
        }
    }

    /** A broadcast packet has exactly one destination when the switch has two ports: its buffer may move. */
    private static boolean broadcastMoves(SwitchView view) {
        return view.list.length == 2;
    }

    private void deliverTo(SwitchView view, DstRing d, int uHead, int bcast, int need, int cut) {
        if (d.bufSize < bufSize) {
            need = fitting(d, uHead, bcast, cut); // smaller buffers than the sender's: some packets may not fit
        }
        int start = 0;
        int granted = 0;
        long t0 = STAGES ? System.nanoTime() : 0;
        if (need > 0) {
            long r = d.reserve(need);
            start = (int) (r >>> 32);
            granted = (int) r;
        }
        int used = 0;
        long t1 = STAGES ? System.nanoTime() : 0;
        long t2 = 0;
        try {
            used = fill(view, d, start, granted, uHead, bcast, cut, broadcastMoves(view));
        } finally {
            t2 = STAGES ? System.nanoTime() : 0;
            if (granted > 0) {
                finishLease(d, start, granted, used); // even if a module's rewrite threw: never leave a lease open
            }
        }
        if (STAGES) {
            STAGE_NS[2] += t1 - t0;
            STAGE_NS[3] += t2 - t1;
            STAGE_NS[4] += System.nanoTime() - t2;
        }
    }

    /**
     * Completes a lease of {@code granted} slots of which the first {@code used} were filled: the rest
     * is given back if no lease follows, else goes out as empty slots (netmap does the same).
     */
    private static void finishLease(DstRing d, int start, int granted, int used) {
        int keep = used < granted ? d.shrink(start, granted, used) : used;
        for (int j = RingIndex.advance(start, used, d.numSlots), k = used; k < keep; k++, j = RingIndex.next(j, d.numSlots)) {
            d.setLenFlags(j, 0, 0);
        }
        if (keep > 0) {
            d.complete(start, keep);
        }
    }

    /** Slots needed by the packets for {@code d} that fit its buffers. */
    private int fitting(DstRing d, int uHead, int bcast, int cut) {
        int need = 0;
        for (int u = uHead, b = bcast; u != END || b != END; ) {
            int i;
            if (b == END || (u != END && u < b)) {
                i = u;
                u = pNext[u];
            } else {
                i = b;
                b = pNext[b];
            }
            if (i >= cut) {
                break;
            }
            if (maxFrag(i) <= d.bufSize) {
                need += frags(i);
            }
        }
        return need;
    }

    /**
     * Fills up to {@code room} leased slots of {@code d} from {@code start} with the packets of the
     * merged unicast and broadcast lists (those before packet {@code cut}); counts what was delivered
     * and what was dropped. Returns the slots used.
     */
    private int fill(SwitchView view, DstRing d, int start, int room, int uHead, int bcast, int cut, boolean bcastMoves) {
        LookupModule lookup = view.lookup;
        boolean sameRegion = d.region == region;
        boolean rewrite = lookup.rewrites();
        int j = start;
        int used = 0;
        long delivered = 0;
        long bytes = 0;
        long full = 0;
        long tooLong = 0;
        long badDst = 0;
        int dIndex = d.portIndex;
        MemorySegment dm = d.mem;
        int n = batchN;
        if (uHead == 0 && bcast == END && batchSingle && dSlots[dIndex] == n && cut >= n && room >= n
                && !rewrite && d.bufSize >= bufSize) {
            return fillRun(view.stats, d, start, n, sameRegion); // the whole batch, one slot each, to d
        }
        for (int u = uHead, b = bcast; u != END || b != END; ) {
            int i;
            boolean unicast;
            if (b == END || (u != END && u < b)) {
                i = u;
                u = pNext[u];
                unicast = true;
            } else {
                i = b;
                b = pNext[b];
                unicast = false;
            }
            if (i >= cut) {
                break;
            }
            int frags = frags(i);
            if (maxFrag(i) > d.bufSize) {
                tooLong++;
                continue;
            }
            if (frags > room - used) {
                full++;
                continue;
            }
            int first = j;
            boolean move = sameRegion && (unicast || bcastMoves);
            if (frags == 1) {
                int len = totalLen(i);
                int db = d.bufIdx(j);
                long dOff = d.bufOffsetOf(db);
                if (dOff < 0) {
                    badDst++; // the receiver handed back a bad index: this slot goes out empty
                    d.setLenFlags(j, 0, 0);
                } else if (move) {
                    long w = pWord[i];
                    moveBuffer(pSlot[i], SlotWord.bufIdx(w), len, SlotWord.flags(w), d, j, db, 0);
                } else {
                    copy(mem, bufOffset(pWord[i]), dm, dOff, len);
                    d.setLenFlags(j, len, 0);
                }
                j = RingIndex.next(j, d.numSlots);
            } else {
                int s = pSlot[i];
                for (int k = 0; k < frags; k++) {
                    long sl = SlotLayout.offset(slots, s);
                    long w = mem.get(JAVA_LONG_UNALIGNED, sl);
                    int sb = SlotWord.bufIdx(w);
                    int len = SlotWord.len(w);
                    int more = SlotWord.flags(w) & Slot.NS_MOREFRAG;
                    int db = d.bufIdx(j);
                    long dOff = d.bufOffsetOf(db);
                    if (dOff < 0) {
                        badDst++;
                        d.setLenFlags(j, 0, 0);
                    } else if (move) {
                        moveBuffer(s, sb, len, SlotWord.flags(w), d, j, db, more);
                    } else {
                        copy(mem, bufPool + (long) sb * bufSize, dm, dOff, len);
                        d.setLenFlags(j, len, more);
                    }
                    s = RingIndex.next(s, numSlots);
                    j = RingIndex.next(j, d.numSlots);
                }
            }
            if (rewrite) {
                long off = d.bufOffsetOrInvalid(first);
                if (off >= 0) {
                    lookup.rewrite(mem, bufOffset(pWord[i]), dm, off, SlotWord.len(pWord[i]), dIndex, pCookie[i]);
                }
            }
            used += frags;
            delivered++;
            bytes += totalLen(i);
        }
        tx[SwitchFileLayout.TX_DELIVERED] += delivered;
        tx[SwitchFileLayout.DROP_FULL] += full;
        tx[SwitchFileLayout.DROP_TOO_LONG] += tooLong;
        SwitchStats st = view.stats;
        if (delivered != 0) {
            st.addRx(dIndex, SwitchFileLayout.RX_PACKETS, delivered);
            st.addRx(dIndex, SwitchFileLayout.RX_BYTES, bytes);
        }
        if (full != 0) {
            st.addRx(dIndex, SwitchFileLayout.RX_DROP_FULL, full);
        }
        if (badDst != 0) {
            st.addRx(dIndex, SwitchFileLayout.RX_BAD_SLOT, badDst);
        }
        return used;
    }

    /**
     * {@link #fill}'s common case: every packet of the batch is one slot, goes to {@code d}, and its
     * lease holds them all: one counted loop over the batch in order, no list walk, no per-packet
     * fit checks (the sender's buffers are no larger than the destination's).
     */
    private int fillRun(SwitchStats st, DstRing d, int start, int n, boolean move) {
        MemorySegment sm = mem;
        MemorySegment dm = d.mem;
        long dSlots = d.slots;
        long dPool = d.bufPool;
        int dBufSize = d.bufSize;
        int dNumBufs = d.numBufs;
        int dNumSlots = d.numSlots;
        long sPool = bufPool;
        int sBufSize = bufSize;
        long sSlots = slots;
        int sNumSlots = numSlots;
        long[] words = pWord;
        int s = pSlot[0];
        int j = start;
        long bytes = batchBytes; // every packet of the batch, all of them good (else not here)
        long badDst = 0;
        // in runs where neither ring wraps: the slot offsets are then linear in the loop's counter and
        // the JIT checks the slot accesses' bounds once per run instead of per packet
        for (int i = 0; i < n; ) {
            int run = Math.min(n - i, Math.min(sNumSlots - s, dNumSlots - j));
            long sBase = SlotLayout.offset(sSlots, s);
            long dBase = SlotLayout.offset(dSlots, j);
            for (int k = 0; k < run; k++) {
                long w = words[i + k];
                int len = SlotWord.len(w);
                long dsl = dBase + (long) k * SlotLayout.SIZE;
                int db = dm.get(JAVA_INT_UNALIGNED, dsl);
                if (db < 2 || db >= dNumBufs) {
                    badDst++; // the receiver handed back a bad index: this slot goes out empty
                    dm.set(JAVA_INT_UNALIGNED, dsl + SlotLayout.LEN_OFFSET, 0);
                } else if (move) {
                    sm.set(JAVA_LONG_UNALIGNED, sBase + (long) k * SlotLayout.SIZE,
                            SlotWord.of(db, len, SlotWord.flags(w) | Slot.NS_BUF_CHANGED));
                    dm.set(JAVA_LONG_UNALIGNED, dsl, SlotWord.of(SlotWord.bufIdx(w), len, Slot.NS_BUF_CHANGED));
                } else {
                    copy(sm, sPool + (long) SlotWord.bufIdx(w) * sBufSize, dm, dPool + (long) db * dBufSize, len);
                    dm.set(JAVA_INT_UNALIGNED, dsl + SlotLayout.LEN_OFFSET, SlotWord.lenFlags(len, 0));
                }
            }
            i += run;
            s += run;
            if (s == sNumSlots) {
                s = 0;
            }
            j += run;
            if (j == dNumSlots) {
                j = 0;
            }
        }
        int dIndex = d.portIndex;
        tx[SwitchFileLayout.TX_DELIVERED] += n;
        st.addRx(dIndex, SwitchFileLayout.RX_PACKETS, n);
        st.addRx(dIndex, SwitchFileLayout.RX_BYTES, bytes);
        if (badDst != 0) {
            st.addRx(dIndex, SwitchFileLayout.RX_BAD_SLOT, badDst);
        }
        return n;
    }

    /**
     * Back-pressure: locks the rings of every destination of the batch (in port order, so two such
     * senders never deadlock), finds the longest prefix of the batch that fits everywhere, leases
     * exactly that, and delivers it. Returns the number of packets delivered (the cut).
     */
    private int deliverBackPressured(int n, SwitchView view, int self) {
        boolean bcast = bHead != END;
        int nLocked = lockDestinations(view, self, bcast);
        DstRing blocker = null;
        int cut = n;
        try {
            for (int i = 0; i < n; i++) {
                blocker = blocker(view, self, i);
                if (blocker != null) {
                    cut = i;
                    break;
                }
            }
            takeLeases(nLocked, blocker);
        } finally {
            for (int k = 0; k < nLocked; k++) {
                locked[k].unlock();
            }
        }
        RuntimeException failure = null;
        for (int k = 0; k < nLocked; k++) {
            DstRing r = locked[k];
            locked[k] = null;
            int d = r.portIndex;
            int start = leaseStart[d];
            int room = leaseLen[d];
            int used = 0;
            try {
                used = fill(view, r, start, room, dHead[d], bcast ? bHead : END, cut, broadcastMoves(view));
            } catch (RuntimeException e) {
                failure = failure == null ? e : failure; // a module's rewrite threw: finish every lease first
            } finally {
                if (room > 0) {
                    finishLease(r, start, room, used); // the lease is exact: all of it was filled
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
        if (blocker != null) {
            blocker.senderBlocked(); // after the leases above went out: the room may already be there
        }
        return cut;
    }

    /**
     * Locks the ring of every destination of the batch, in port order (so two back-pressured senders
     * never deadlock), and notes what is free in each. Returns how many were locked ({@link #locked}).
     */
    private int lockDestinations(SwitchView view, int self, boolean bcast) {
        int nLocked = 0;
        for (SwitchPort dp : view.list) {
            int d = dp.index;
            if (d != self && (bcast || dHead[d] != END)) {
                DstRing r = dp.dst(ringId);
                r.lock();
                locked[nLocked++] = r;
                free[d] = r.free();
                need[d] = 0;
            }
        }
        return nLocked;
    }

    /**
     * Adds packet {@code i} to the prefix the locked destinations must take ({@link #need}); returns the
     * ring it does not fit in (the prefix ends before it), or null.
     */
    private DstRing blocker(SwitchView view, int self, int i) {
        int d = pDst[i];
        int f = frags(i);
        if (d < ValeSwitch.MAX_PORTS) {
            DstRing r = view.byIndex[d].dst(ringId);
            if (maxFrag(i) <= r.bufSize) {
                if (need[d] + f > free[d]) {
                    return r;
                }
                need[d] += f;
            }
        } else if (d == LookupModule.BROADCAST) {
            for (SwitchPort dp : view.list) {
                int o = dp.index;
                DstRing r = dp.dst(ringId);
                if (o != self && maxFrag(i) <= r.bufSize && need[o] + f > free[o]) {
                    return r;
                }
            }
            for (SwitchPort dp : view.list) {
                int o = dp.index;
                if (o != self && maxFrag(i) <= dp.dst(ringId).bufSize) {
                    need[o] += f;
                }
            }
        }
        return null;
    }

    /** Under the locks: leases exactly what the prefix needs in each ring; the blocker's senders wait for room. */
    private void takeLeases(int nLocked, DstRing blocker) {
        for (int k = 0; k < nLocked; k++) {
            DstRing r = locked[k];
            int d = r.portIndex;
            leaseStart[d] = r.lease;
            leaseLen[d] = need[d];
            r.take(need[d]);
            if (r == blocker) {
                r.senderWaiting = true;
            }
        }
    }

    /**
     * {@link #pShape}: {@code frags} in bits 0-15 (a chain spans fewer slots than the ring has, at most
     * Geometry.MAX_SLOTS - 1, checked in the constructor), the longest slot in 16-31, the bytes in 32-63.
     */
    private static long shape(int frags, int total, int maxFrag) {
        return (long) total << 32 | (long) maxFrag << 16 | frags;
    }

    private int frags(int i) {
        return (int) pShape[i] & 0xffff;
    }

    private int totalLen(int i) {
        return (int) (pShape[i] >>> 32);
    }

    private int maxFrag(int i) {
        return (int) (pShape[i] >>> 16) & 0xffff;
    }

    /** Offset in {@link #mem} of the buffer of a slot word read in {@link #batch} (valid: its packet was not dropped as bad). */
    private long bufOffset(long w) {
        return bufPool + (long) SlotWord.bufIdx(w) * bufSize;
    }

    /**
     * Zero copy: the packet's buffer {@code sb} (source slot {@code s}, which holds {@code len} and
     * {@code flags}) moves to slot {@code j} of {@code d}, the receiver's free buffer {@code db} comes
     * back into slot {@code s}; both slots say their buffer changed. Two slot writes, no byte copied.
     */
    private void moveBuffer(int s, int sb, int len, int flags, DstRing d, int j, int db, int more) {
        mem.set(JAVA_LONG_UNALIGNED, SlotLayout.offset(slots, s), SlotWord.of(db, len, flags | Slot.NS_BUF_CHANGED));
        d.setSlot(j, sb, len, more | Slot.NS_BUF_CHANGED);
    }

    /**
     * Copies a packet between buffers, rounded up to a multiple of 64 bytes as netmap's nm_pkt_copy
     * does (buffers are multiples of 64 bytes and {@code len} fits both, so the tail stays inside them).
     * Up to 64 bytes: {@link #copy64}, eight long moves straight on the two segments (no view, nothing
     * for escape analysis to remove). Longer: one copy of the length rounded up to 64 (the JDK's copy
     * stub; the round length spares it the odd tail).
     */
    private static void copy(MemorySegment src, long from, MemorySegment dst, long to, int len) {
        if (len <= 64) {
            copy64(src, from, dst, to);
        } else {
            MemorySegment.copy(src, from, dst, to, (len + 63) & ~63);
        }
    }

    /**
     * One 64-byte line from {@code src} at {@code from} to {@code dst} at {@code to}: eight long moves,
     * each load straight followed by its store (one value live at a time: loading all eight first made
     * the JIT spill them, ~0.8 ns a packet more). A hostile receiver handing back the sender's own buffer
     * only garbles that packet; every access is bounds- and liveness-checked like any segment access
     * (the JIT hoists the liveness checks out of the fill loop, not the 16 range checks). The JDK's
     * {@code MemorySegment.copy} below 64 bytes adds an overlap test and a loop with a tail: ~1.3 ns a
     * 60-byte packet more in ValeCpu; a loop of eight long moves instead of the unrolled lines: ~3 ns more.
     */
    private static void copy64(MemorySegment src, long from, MemorySegment dst, long to) {
        dst.set(JAVA_LONG_UNALIGNED, to, src.get(JAVA_LONG_UNALIGNED, from));
        dst.set(JAVA_LONG_UNALIGNED, to + 8, src.get(JAVA_LONG_UNALIGNED, from + 8));
        dst.set(JAVA_LONG_UNALIGNED, to + 16, src.get(JAVA_LONG_UNALIGNED, from + 16));
        dst.set(JAVA_LONG_UNALIGNED, to + 24, src.get(JAVA_LONG_UNALIGNED, from + 24));
        dst.set(JAVA_LONG_UNALIGNED, to + 32, src.get(JAVA_LONG_UNALIGNED, from + 32));
        dst.set(JAVA_LONG_UNALIGNED, to + 40, src.get(JAVA_LONG_UNALIGNED, from + 40));
        dst.set(JAVA_LONG_UNALIGNED, to + 48, src.get(JAVA_LONG_UNALIGNED, from + 48));
        dst.set(JAVA_LONG_UNALIGNED, to + 56, src.get(JAVA_LONG_UNALIGNED, from + 56));
    }

    // ----------------------------------------------------------------------------------------------
    // counting

    /** Counts the first {@code cut} packets of the batch as taken from the ring, and their drops by cause. */
    private void account(int cut) {
        if (cut == batchN && batchDrops == 0) {
            tx[SwitchFileLayout.TX_PACKETS] += cut; // the common case: the sums batch and lookupAll made
            tx[SwitchFileLayout.TX_BYTES] += batchBytes;
            return;
        }
        long bytes = 0;
        for (int i = 0; i < cut; i++) {
            bytes += totalLen(i);
            int d = pDst[i];
            if (d >= LookupModule.NO_PORT) {
                tx[dropCounter(d)]++;
            }
        }
        tx[SwitchFileLayout.TX_PACKETS] += cut;
        tx[SwitchFileLayout.TX_BYTES] += bytes;
    }

    private static int dropCounter(int code) {
        return switch (code) {
            case LookupModule.DROP_TTL -> SwitchFileLayout.DROP_TTL;
            case LookupModule.DROP_NO_ROUTE -> SwitchFileLayout.DROP_NO_ROUTE;
            case LookupModule.DROP_NOT_IP -> SwitchFileLayout.DROP_NOT_IP;
            case DROP_BAD -> SwitchFileLayout.DROP_BAD_SLOT;
            case DROP_HAIRPIN -> SwitchFileLayout.DROP_HAIRPIN;
            default -> SwitchFileLayout.DROP_LOOKUP;
        };
    }

    private void flushCounters(SwitchStats st, int self) {
        long[] c = tx;
        for (int k = 0; k < c.length; k++) {
            if (c[k] != 0) {
                st.addTx(self, k, c[k]);
                c[k] = 0;
            }
        }
    }

    /** Clears the per-destination lists for the next batch. */
    private void reset() {
        for (int t = 0; t < nTouched; t++) {
            int d = touched[t];
            dHead[d] = END;
            dSlots[d] = 0;
        }
        nTouched = 0;
        bHead = END;
        bSlots = 0;
    }
}
