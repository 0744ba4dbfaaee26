package io.jnetmap.pipe;

import io.jnetmap.core.NetmapIf;
import io.jnetmap.core.PortName;
import io.jnetmap.core.Region;
import io.jnetmap.core.RegionLayout;
import io.jnetmap.core.RingIndex;
import io.jnetmap.core.RingLayout;
import io.jnetmap.core.Slot;
import io.jnetmap.core.SlotLayout;
import io.jnetmap.core.SlotWord;
import io.jnetmap.core.spi.AbstractPort;
import io.jnetmap.core.spi.Kring;
import io.jnetmap.poll.ForwardingPollable;
import io.jnetmap.poll.Pollable;
import io.jnetmap.poll.ProcessWatch;
import io.jnetmap.sys.Linux;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * One end of a netmap pipe ({@code X{ID} master, {@code X}ID} slave): what is sent on TX ring k
 * arrives on the other end's RX ring k, by moving slot descriptors (zero copy, netmap_pipe.c), with
 * back-pressure instead of drops. The two ends may live in one process or in two; they meet in the
 * parent's shared region ({@link PipeLayout}). Obtain one with {@code Netmap.open("pipe{1")}.
 *
 * <p>What differs from the generic port contract ({@link Kring}):
 * <ul>
 *   <li>txsync moves every new slot to the peer (hwcur = head) but publishes only complete packets: the
 *       slots of a packet whose last fragment carried {@code NS_MOREFRAG} wait for the rest;</li>
 *   <li>the TX tail advances only as the peer releases RX slots, so a sender whose peer is slow, or not
 *       open yet, fills its ring and waits;</li>
 *   <li>a slot's buffer changes at every trip ({@code NS_BUF_CHANGED} is set); {@code ptr} is not
 *       carried;</li>
 *   <li>the peer is untrusted: see {@link PipeBrokenException}.</li>
 * </ul>
 */
public final class PipePort extends AbstractPort {
    private static final VarHandle LONG = JAVA_LONG.varHandle();
    private static final int PID = Linux.getpid();
    private static final AtomicLong TOTAL_FAULTS = new AtomicLong();
    /** NS_BUF_CHANGED and NS_MOREFRAG in a slot word ({@link SlotWord}: bufIdx, len and flags in one load). */
    private static final long BUF_CHANGED_BIT = SlotWord.flagBits(Slot.NS_BUF_CHANGED);
    private static final long MOREFRAG_BIT = SlotWord.flagBits(Slot.NS_MOREFRAG);

    private final NetmapIf peer;
    private final boolean master;
    private final MemorySegment mem;
    private final int numBufs;
    private final int bufSize;
    /** Per ring id: this end's TX ring and the peer's RX ring it mirrors. */
    private final Link[] txLinks;
    /** Per ring id: this end's RX ring and the peer's TX ring it mirrors. */
    private final Link[] rxLinks;
    private final Pollable pollable;
    private final AtomicLong faults = new AtomicLong();
    private volatile String broken;
    /** The watch of the peer's process (a pidfd in {@link ProcessWatch}); replaced when another process attaches. */
    private volatile ProcessWatch.Watch peerWatch;
    /** Non-null: the peer's death breaks this end with this message ({@link #breakOnPeerDeath}). */
    private volatile String peerDeathMessage;
    private final AtomicLong peerDeaths = new AtomicLong();
    private volatile String lastPeerDeath;

    /** A ring of this end and the peer's ring it mirrors, slot for slot. */
    private static final class Link {
        final long ring;
        final long slots;
        final long peerRing;
        final long peerSlots;
        final PeerWaker waker;

        Link(MemorySegment mem, long ring, long peerRing) {
            this.ring = ring;
            this.slots = ring + RingLayout.SLOTS_OFFSET;
            this.peerRing = peerRing;
            this.peerSlots = peerRing + RingLayout.SLOTS_OFFSET;
            this.waker = new PeerWaker(mem, peerRing);
        }
    }

    PipePort(PortName name, NetmapIf mine, NetmapIf peer, boolean master) {
        super(name, mine, "pipe");
        this.peer = peer;
        this.master = master;
        this.mem = region().memory();
        this.numBufs = region().numBufs();
        this.bufSize = region().bufSize();
        this.txLinks = new Link[mine.txRings()];
        this.rxLinks = new Link[mine.rxRings()];
        for (int i = 0; i < txRings(); i++) {
            Kring k = txKring(i);
            txLinks[k.ring.ringId()] = link(k, peer.rxRingOffset(k.ring.ringId()));
        }
        for (int i = 0; i < rxRings(); i++) {
            Kring k = rxKring(i);
            rxLinks[k.ring.ringId()] = link(k, peer.txRingOffset(k.ring.ringId()));
        }
        Pollable inner = super.pollable();
        this.pollable = new BrokenAwarePollable(inner);
        // for peers that pidfd_getfd refuses (Yama, seccomp, fewer capabilities): the same descriptor by SCM_RIGHTS
        WakeFdServer.offer(eventFd().fd());
        watchPeer();
    }

    private Link link(Kring k, long peerRing) {
        long ring = k.ring.offset();
        // publish who to wake when this ring's user sleeps: the peer takes the descriptor with pidfd_getfd
        // (or, where that is refused, asks this process's WakeFdServer for it)
        mem.set(JAVA_INT, ring + PipeLayout.OWNER_PID_OFFSET, PID);
        mem.set(JAVA_INT, ring + PipeLayout.EVENT_FD_OFFSET, eventFd().fd());
        int seq = mem.get(JAVA_INT, ring + PipeLayout.WAKE_SEQ_OFFSET);
        // ordered store -> pid and fd are visible before the (odd) sequence that validates them
        PipeLayout.soWakeSeq(mem, ring, (seq & 1) == 0 ? seq + 1 : seq + 2);
        return new Link(mem, ring, peerRing);
    }

    /** True for the master end ({@code X{ID}). */
    public boolean isMaster() {
        return master;
    }

    /** Name of the other end ({@code pipe}1} for {@code pipe{1}). */
    public String peerName() {
        return peer.name();
    }

    /** True while the other end is open (by this process or another live one). */
    public boolean peerOpen() {
        int pid = peer.state();
        ProcessWatch.Watch w = peerWatch;
        boolean seenDead = w != null && w.pid() == pid && w.fired(); // exited, maybe a zombie kill(0) still finds
        return pid != 0 && (pid == PID || (!seenDead && Linux.processAlive(pid)));
    }

    /**
     * Times the process holding the other end died while this end was open (seen within microseconds
     * through a pidfd, whether or not this end's user was syncing: a user asleep in a {@code Poller} is
     * woken). The pipe stays usable: a new process may open the other end and the transfer goes on.
     */
    public long peerDeaths() {
        return peerDeaths.get();
    }

    /** What {@link #peerDeaths()} last saw ({@code "the other end pipe}1 (pid 123) died"}), or null. */
    public String lastPeerDeath() {
        return lastPeerDeath;
    }

    /**
     * Makes the death of the process now holding the other end fatal for this end: it is cut off with
     * {@code message} (syncs throw {@link PipeBrokenException}, the pollable reports {@code ERR}, a
     * sleeping user is woken). For ports built on a pipe whose other end is a service (a switch's host).
     * If the peer is already dead, the end breaks at once.
     */
    public void breakOnPeerDeath(String message) {
        peerDeathMessage = message;
        watchPeer();
        ProcessWatch.Watch w = peerWatch;
        if (w != null && w.fired() && broken == null) {
            broken = message;
        }
    }

    /** Starts watching the peer's process if it is not this one and not watched yet: one shared read while nothing changed. */
    private void watchPeer() {
        int pid = peer.state();
        if (pid > 0 && pid != PID) { // (a pid the peer could have overwritten: any value is watched harmlessly)
            ProcessWatch.Watch w = peerWatch;
            if (w == null || w.pid() != pid) {
                startWatch(pid);
            }
        }
    }

    private synchronized void startWatch(int pid) {
        ProcessWatch.Watch w = peerWatch;
        if (isClosed() || (w != null && w.pid() == pid)) {
            return;
        }
        if (w != null) {
            w.close();
        }
        peerWatch = ProcessWatch.onExit(pid, () -> peerExited(pid));
    }

    /** On the watch thread: the peer's process {@code pid} is gone. */
    private synchronized void peerExited(int pid) {
        if (isClosed()) {
            return; // the eventfd may be closed (and its number reused)
        }
        lastPeerDeath = "the other end " + peer.name() + " (pid " + pid + ") died"; // before the count a reader polls
        peerDeaths.incrementAndGet();
        String fatal = peerDeathMessage;
        if (fatal != null && broken == null) {
            broken = fatal;
        }
        eventFd().signal(); // a user asleep in a Poller wakes up and sees ERR (or a new state)
    }

    /** Faults of the peer found by this end (0 or 1: the first one cuts the pipe off). */
    public long peerFaults() {
        return faults.get();
    }

    /** Faults found by every pipe end of this process. */
    public static long totalPeerFaults() {
        return TOTAL_FAULTS.get();
    }

    /** Why this end cut its peer off, or null while the pipe is healthy. */
    public String brokenReason() {
        return broken;
    }

    /** Wake-up system calls this end made for the peer (0 while the peer never slept). */
    public long wakeupsSent() {
        long n = 0;
        for (Link l : txLinks) {
            n += l.waker.signals();
        }
        for (Link l : rxLinks) {
            n += l.waker.signals();
        }
        return n;
    }

    /**
     * Peer wake-up descriptors this end obtained from the peer's process by SCM_RIGHTS because
     * {@code pidfd_getfd} was refused (0 where pidfd_getfd works).
     */
    public long wakeupDescriptorsBySocket() {
        long n = 0;
        for (Link[] ls : new Link[][] {txLinks, rxLinks}) {
            for (Link l : ls) {
                n += l.waker.fetchedBySocket();
            }
        }
        return n;
    }

    /** Times the peer's wake-up descriptor could not be obtained; see {@link #wakeupFailure()}. */
    public long wakeupFailures() {
        long n = 0;
        for (Link l : txLinks) {
            n += l.waker.failures();
        }
        for (Link l : rxLinks) {
            n += l.waker.failures();
        }
        return n;
    }

    /** The last reason a wake-up descriptor could not be obtained, or null. */
    public String wakeupFailure() {
        for (Link[] ls : new Link[][] {txLinks, rxLinks}) {
            for (Link l : ls) {
                if (l.waker.lastFailure() != null) {
                    return l.waker.lastFailure();
                }
            }
        }
        return null;
    }

    @Override
    public Pollable pollable() {
        return pollable;
    }

    // ----------------------------------------------------------------------------------------------
    // syncs

    /**
     * Swaps the descriptors of {@code [hwcur, head)} with the mirrored RX slots of the peer and
     * publishes up to the last complete packet, then reclaims the slots the peer released (tail).
     * Publishing first keeps the read of the peer-written tail off the path of the packets.
     */
    @Override
    protected void txsync(Kring k) {
        checkNotBroken();
        watchPeer();
        Link l = txLinks[k.ring.ringId()];
        int from = k.hwcur;
        int head = k.rhead;
        if (from != head) {
            // two straight runs instead of one that wraps: counted loops, whose bounds checks the JIT hoists
            int lastComplete = move(l, from, head > from ? head : k.numSlots);
            if (head < from && head > 0) {
                int c = move(l, 0, head);
                lastComplete = c >= 0 ? c : lastComplete;
            }
            k.hwcur = head;
            if (lastComplete >= 0) {
                // ordered store -> the moved slots are visible to the peer before the tail that hands them over
                PipeLayout.soPipeTail(mem, l.peerRing, k.next(lastComplete));
                l.waker.wakeIfWaiting();
            }
        }
        int tail = PipeLayout.lvPipeTail(mem, l.ring);
        if (tail != k.hwtail) {
            // the peer may already have taken (and given back) what was just published: up to hwcur - 1
            if (!RingIndex.within(k.hwtail, tail, k.prev(k.hwcur), k.numSlots)) {
                cutOff("set the tail of TX ring " + k.ring.ringId() + " to " + tail + " (expected: " + k.hwtail + ".."
                        + k.prev(k.hwcur) + " circular, of " + k.numSlots + " slots)");
            }
            k.hwtail = tail;
        }
    }

    /**
     * Swaps the descriptors of TX slots {@code [from, to)} with the peer's mirrored RX slots (the packet
     * goes over, the buffer the peer released comes back), both flagged NS_BUF_CHANGED. Returns the
     * last slot that ends a packet (no NS_MOREFRAG), or -1.
     */
    private int move(Link l, int from, int to) {
        MemorySegment m = mem;
        long ts = SlotLayout.offset(l.slots, from);
        long rs = SlotLayout.offset(l.peerSlots, from);
        long tw = m.get(JAVA_LONG_UNALIGNED, ts);
        // the peer's user wrote this line last (it released the slot): one exchange takes it exclusive in one transfer
        // between cores, where a read then a write takes two; the rest of the line follows. Outside the loop: an atomic
        // inside it would keep the JIT from hoisting the segment's checks out of the loop
        long rw = (long) LONG.getAndSet(m, rs, tw | BUF_CHANGED_BIT);
        int rb = SlotWord.bufIdx(rw);
        if (Integer.compareUnsigned(rb, RegionLayout.RESERVED_BUFS) < 0 || Integer.compareUnsigned(rb, numBufs) >= 0) {
            m.set(JAVA_LONG_UNALIGNED, rs, rw); // as the peer left it: our buffer never sits in two slots
            badRelease(from, rb);
        }
        m.set(JAVA_LONG_UNALIGNED, ts, SlotWord.withBufIdx(tw | BUF_CHANGED_BIT, rb));
        int lastComplete = (tw & MOREFRAG_BIT) == 0 ? from : -1;
        for (int i = from + 1; i < to; i++) {
            ts = SlotLayout.offset(l.slots, i);
            rs = SlotLayout.offset(l.peerSlots, i);
            tw = m.get(JAVA_LONG_UNALIGNED, ts);
            rb = SlotWord.bufIdx(m.get(JAVA_LONG_UNALIGNED, rs));
            if (Integer.compareUnsigned(rb, RegionLayout.RESERVED_BUFS) < 0 || Integer.compareUnsigned(rb, numBufs) >= 0) {
                badRelease(i, rb);
            }
            long moved = tw | BUF_CHANGED_BIT;
            m.set(JAVA_LONG_UNALIGNED, rs, moved);                            // the packet, its length and flags go over
            m.set(JAVA_LONG_UNALIGNED, ts, SlotWord.withBufIdx(moved, rb)); // the released buffer comes back
            if ((tw & MOREFRAG_BIT) == 0) {
                lastComplete = i;
            }
        }
        return lastComplete;
    }

    private void badRelease(int slot, int bufIdx) {
        cutOff("released RX slot " + slot + " with bufIdx=" + Integer.toUnsignedString(bufIdx) + " (expected: " + RegionLayout.RESERVED_BUFS + ".."
                + (numBufs - 1) + ")");
    }

    /**
     * Takes the packets the peer published (checking every new slot), then gives the released slots
     * {@code [hwcur, head)} back to the peer's TX ring.
     */
    @Override
    protected void rxsync(Kring k) {
        checkNotBroken();
        watchPeer();
        Link l = rxLinks[k.ring.ringId()];
        MemorySegment m = mem;
        int tail = PipeLayout.lvPipeTail(m, l.ring);
        if (tail != k.hwtail) {
            if (!RingIndex.within(k.hwtail, tail, k.prev(k.hwcur), k.numSlots)) {
                cutOff("set the tail of RX ring " + k.ring.ringId() + " to " + tail + " (expected: " + k.hwtail + ".."
                        + k.prev(k.hwcur) + " circular, of " + k.numSlots + " slots)");
            }
            int from = k.hwtail;
            check(l, from, tail > from ? tail : k.numSlots);
            if (tail < from) {
                check(l, 0, tail);
            }
            k.hwtail = tail;
        }
        int head = k.rhead;
        if (head != k.hwcur) {
            k.hwcur = head;
            // ordered store -> the user's reads of the released buffers happen before the peer reuses them
            PipeLayout.soPipeTail(m, l.peerRing, k.prev(head));
            l.waker.wakeIfWaiting();
        }
    }

    /** Checks new RX slots {@code [from, to)}: a valid buffer index and a length within the buffer. */
    private void check(Link l, int from, int to) {
        MemorySegment m = mem;
        for (int j = from; j < to; j++) {
            long w = m.get(JAVA_LONG_UNALIGNED, SlotLayout.offset(l.slots, j));
            int b = SlotWord.bufIdx(w);
            int len = SlotWord.len(w);
            if (Integer.compareUnsigned(b, RegionLayout.RESERVED_BUFS) < 0 || Integer.compareUnsigned(b, numBufs) >= 0
                    || len > bufSize) {
                cutOff("delivered RX slot " + j + " with bufIdx=" + Integer.toUnsignedString(b) + ", len=" + len + " (expected: bufIdx "
                        + RegionLayout.RESERVED_BUFS + ".." + (numBufs - 1) + ", len 0.." + bufSize + ")");
            }
        }
    }

    private void checkNotBroken() {
        String why = broken;
        if (why != null) {
            throw new PipeBrokenException(why);
        }
    }

    private void cutOff(String what) {
        int pid = peer.state();
        String why = "pipe " + name() + ": the other end " + peer.name() + (pid != 0 ? " (pid " + pid + ")" : "") + " " + what
                + "; the pipe is cut off at this end (close and reopen both ends)";
        broken = why;
        faults.incrementAndGet();
        TOTAL_FAULTS.incrementAndGet();
        throw new PipeBrokenException(why);
    }

    // ----------------------------------------------------------------------------------------------
    // close

    @Override
    protected void onClose() {
        synchronized (this) {
            ProcessWatch.Watch w = peerWatch;
            if (w != null) {
                w.close();
            }
        }
        WakeFdServer.withdraw(eventFd().fd());
        PipeLock.locked(() -> {
            for (Link[] links : new Link[][] {txLinks, rxLinks}) {
                for (Link l : links) {
                    int seq = mem.get(JAVA_INT, l.ring + PipeLayout.WAKE_SEQ_OFFSET);
                    // ordered store -> the peer stops trusting the fd number before the eventfd closes
                    PipeLayout.soWakeSeq(mem, l.ring, (seq & 1) == 1 ? seq + 1 : seq);
                    RingLayout.svUserWait(mem, l.ring, 0);
                    l.waker.close();
                }
            }
            // slots the user advanced over without a sync never reached the peer: a reopen starts from the backend's view
            for (int i = 0; i < txRings(); i++) {
                txKring(i).ring.advanceTo(txKring(i).hwcur);
            }
            for (int i = 0; i < rxRings(); i++) {
                rxKring(i).ring.advanceTo(rxKring(i).hwcur);
            }
            detach(region(), netmapIf(), peer);
            return null;
        });
    }

    /**
     * Marks {@code mine} closed; if the other end is closed too (or its process died), frees both
     * descriptors, their rings, buffers and extra buffers. Called under {@link PipeLock}.
     */
    static void detach(Region region, NetmapIf mine, NetmapIf peer) {
        mine.setState(0);
        int peerPid = peer.state();
        if (peerPid == 0 || (peerPid != PID && !Linux.processAlive(peerPid))) {
            region.freeIf(peer);
            region.freeIf(mine);
        }
    }

    /** Slot descriptors move at txsync and are checked at rxsync: a zero-copy monitor ({@code pipe{1/z}) can sit in between. */
    @Override
    public boolean supportsZeroCopyMonitor() {
        return true;
    }

    /** Both ends' descriptors are freed together by whichever end closes last ({@link #onClose}). */
    @Override
    protected boolean freesDescriptorOnClose() {
        return false;
    }

    @Override
    public String toString() {
        return "PipePort[" + name() + (master ? " master" : " slave") + ", peer " + peer.name()
                + (peerOpen() ? " open" : " not open") + ", region=" + region().name() + "]";
    }

    /** The port's pollable, reporting {@link Pollable#ERR} once the pipe is cut off instead of throwing. */
    private final class BrokenAwarePollable extends ForwardingPollable {
        BrokenAwarePollable(Pollable inner) {
            super(inner);
        }

        @Override
        public int pollNow(int interest) {
            if (broken != null) {
                return ERR;
            }
            try {
                return inner.pollNow(interest);
            } catch (PipeBrokenException e) {
                return ERR;
            }
        }

        @Override
        public int arm(int interest) {
            if (broken != null) {
                return ERR;
            }
            watchPeer(); // a peer that attached while this end was busy is watched before the user sleeps
            try {
                return inner.arm(interest);
            } catch (PipeBrokenException e) {
                return ERR;
            }
        }


        @Override
        public String toString() {
            return "pollable of " + name();
        }
    }
}
