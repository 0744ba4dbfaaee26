package io.jnetmap.vale;

import io.jnetmap.core.Port;
import io.jnetmap.core.Region;
import io.jnetmap.core.Ring;
import io.jnetmap.core.RingIndex;
import io.jnetmap.core.spi.SpinLock;
import io.jnetmap.poll.Pollable;
import io.jnetmap.sys.Affinity;
import io.jnetmap.sys.Epoll;
import io.jnetmap.sys.EventFd;
import io.jnetmap.sys.Linux;
import io.jnetmap.vale.ctl.SwitchFileLayout;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;

/**
 * Any {@link Port} (NIC, host stack, pipe end) as a switch port, driven by its own polling thread,
 * as VALE drives NICs with polling kthreads: the thread runs rxsync on the port's RX rings and
 * forwards what arrived into the switch (the port's RX rings are the switch's sources), and runs
 * txsync on the port's TX rings, into which the switch's senders deliver ({@link TxDst}: the switch is
 * the user of those rings). The thread is the only one that syncs the port's rings; senders only fill
 * leased TX slots, move {@code head}, and run txsync on those rings themselves when nobody else is
 * (netmap runs a NIC's txsync in the sender's context too): every TX sync, the thread's or a
 * sender's, holds the ring's sync lock.
 *
 * <p>While busy the thread spins ({@link AttachOptions#spin()} empty rounds); then it arms the port's
 * {@link Pollable} (IN, and OUT while a TX ring is full) plus its own wake-up eventfd and sleeps in
 * epoll.
 */
public final class AttachedPort extends SwitchPort {
    private static final VarHandle SLEEPING = VarHandles.field(MethodHandles.lookup(), "sleeping", boolean.class);

    private final Port port;
    private final AttachOptions options;
    private final EventFd wake = EventFd.create();
    private final int[] lastHead;
    /** TX tails before the pollable's arm (polling thread only). */
    private final int[] tailBefore;
    /** The polling thread is about to sleep, or sleeps, in epoll. */
    @SuppressWarnings("unused") // accessed through SLEEPING
    private volatile boolean sleeping;
    private volatile boolean running = true;
    private volatile Throwable failure;
    private Thread thread;
    /** Process whose life the attachment follows (a {@link io.jnetmap.vale.ctl.RemotePort}'s), 0 = none. Guarded by ValeSwitches.CONFIG. */
    int owner;

    AttachedPort(ValeSwitch sw, Port port, AttachOptions options) {
        super(sw, options.name() != null ? options.name() : derivedName(port));
        this.port = port;
        this.options = options;
        this.backPressure = options.backPressure();
        this.dst = new DstRing[port.txRings()];
        this.lastHead = new int[port.txRings()];
        this.tailBefore = new int[port.txRings()];
        for (int i = 0; i < dst.length; i++) {
            Ring r = port.txRing(i);
            dst[i] = new TxDst(this, r, sw::wakeBackPressured);
            lastHead[i] = r.head();
        }
        this.forwarders = new Forwarder[port.rxRings()];
        for (int i = 0; i < forwarders.length; i++) {
            forwarders[i] = new Forwarder(sw.views(), this, RingRef.of(port.rxRing(i)), i);
        }
    }

    /** {@code netmap:eth0} becomes {@code eth0}; other names stay as they are, without options. */
    static String derivedName(Port port) {
        String n = port.portName().withoutOptions();
        return n.startsWith("netmap:") ? n.substring(7) : n;
    }

    /** The attached port. */
    public Port port() {
        return port;
    }

    public AttachOptions options() {
        return options;
    }

    /** Why the polling thread stopped, if it failed (a sync threw); null while it runs fine. */
    public Throwable failure() {
        return failure;
    }

    @Override
    public String backend() {
        return port.backend();
    }

    @Override
    public Region region() {
        return port.region();
    }

    @Override
    int kind() {
        return SwitchFileLayout.KIND_ATTACHED;
    }

    void start() {
        thread = Thread.ofPlatform().daemon().name("vale-poll-" + fullName()).start(this::run);
    }

    /** Stops the polling thread, leaves the switch, releases what the port used. Under ValeSwitches.CONFIG. */
    @Override
    void detach() {
        running = false;
        wake.signal();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            throw new IllegalStateException("polling thread of " + fullName() + " did not stop within 10 s");
        }
        sw.leave(this);
        wake.close();
        if (options.closeOnDetach()) {
            port.close();
        }
    }

    @Override
    void closeRemoteOpens(boolean onlyOrphans) {
        if (owner > 0 && (!onlyOrphans || failure != null || !Linux.processAlive(owner))) {
            sw.detach(name);
        }
    }

    /** Senders published into a TX ring (or made room for a back-pressured packet): wake the thread if it sleeps. */
    void wakePoller() {
        VarHandle.fullFence(); // the publication before, the flag read after (Dekker pair with run)
        if (lvSleeping()) {
            wake.signal();
        }
    }

    @Override
    void wakeSender() {
        wakePoller();
    }

    private void svSleeping(boolean on) {
        SLEEPING.setVolatile(this, on);
    }

    private boolean lvSleeping() {
        return (boolean) SLEEPING.getVolatile(this);
    }

    private void run() {
        if (options.cpu() >= 0) {
            Affinity.pinCurrentThread(options.cpu());
        }
        Pollable pollable = port.pollable();
        try (Epoll ep = new Epoll(2)) {
            ep.add(pollable.fd(), pollable.fdEvents(Pollable.IN), 0);
            ep.add(wake.fd(), Linux.EPOLLIN, 1);
            int idle = 0;
            while (running) {
                if (pollOnce()) {
                    idle = 0;
                    continue;
                }
                if (++idle <= options.spin()) {
                    Thread.onSpinWait();
                    continue;
                }
                idle = 0;
                int interest = Pollable.IN | (anyTxFull() ? Pollable.OUT : 0);
                svSleeping(true); // volatile store, then the re-checks below: see wakePoller
                try {
                    int ready;
                    lockTx(); // arm's implicit syncs include TX rings
                    try {
                        for (int i = 0; i < dst.length; i++) {
                            tailBefore[i] = port.txRing(i).tail();
                        }
                        ready = pollable.arm(interest);
                        // arm's txsync may have made room a back-pressured sender waits for: it must be woken
                        // here, as by syncLocked (the next rounds see no news on that ring and never would)
                        for (int i = 0; i < dst.length; i++) {
                            ((TxDst) dst[i]).roomAfterSync(tailBefore[i]);
                        }
                    } finally {
                        unlockTx();
                    }
                    // re-check after the flag is up: a sender may have published, or a receiver made room
                    // for held packets, just before it (the other half of wakePoller's Dekker pair)
                    if (ready == 0 && !txPublished() && !pollOnce() && running) {
                        ep.await(100);
                    }
                } finally {
                    svSleeping(false);
                    pollable.disarm();
                    wake.drain();
                }
            }
        } catch (Throwable t) {
            failure = t;
        }
    }

    /** One round: push what senders published, forward what arrived. True if anything moved. */
    private boolean pollOnce() {
        boolean work = false;
        for (int i = 0; i < dst.length; i++) {
            Ring r = port.txRing(i);
            int head = r.head();
            if (head != lastHead[i] || r.txPending()) {
                TxDst d = (TxDst) dst[i];
                d.syncLock();
                try {
                    work |= d.syncLocked() || head != lastHead[i];
                } finally {
                    d.syncUnlock();
                }
                lastHead[i] = head;
            }
        }
        for (int i = 0; i < forwarders.length; i++) {
            Ring r = port.rxRing(i);
            r.sync();
            int head = r.head();
            int tail = r.tail();
            if (head != tail) {
                int end = forwarders[i].forward(head, tail);
                if (end != head) {
                    work = true;
                }
                r.setCur(tail); // held packets (back-pressure) do not count as news for poll
                r.setHead(end);
            }
        }
        return work;
    }

    private void lockTx() {
        for (DstRing d : dst) {
            ((TxDst) d).syncLock();
        }
    }

    private void unlockTx() {
        for (DstRing d : dst) {
            ((TxDst) d).syncUnlock();
        }
    }

    /** A sender's txsync of an attached port failed: the polling thread stops on it too; remember why. */
    void failed(RuntimeException e) {
        if (failure == null) {
            failure = e;
        }
    }

    private boolean txPublished() {
        for (int i = 0; i < dst.length; i++) {
            if (port.txRing(i).head() != lastHead[i]) {
                return true;
            }
        }
        return false;
    }

    /** A TX ring is full, or a back-pressured sender waits for room in one: wait for OUT too. */
    private boolean anyTxFull() {
        for (int i = 0; i < dst.length; i++) {
            if (port.txRing(i).space() == 0 || ((TxDst) dst[i]).senderWaitingNow()) {
                return true;
            }
        }
        return false;
    }

    /**
     * A TX ring of the attached port as a destination: the switch is the ring's user. Free slots are
     * {@code [lease, tail)}; publishing moves {@code head}; the polling thread runs txsync, or a sender
     * does when nobody else is (under {@link #sync}, a lock of its own).
     */
    static final class TxDst extends DstRing {
        private final AttachedPort attached;
        private final Ring txr;
        /** Held by whoever runs txsync on the ring. */
        private final SpinLock sync = new SpinLock();

        TxDst(AttachedPort attached, Ring ring, Runnable roomMade) {
            super(attached.name, RingRef.of(ring), ring.head(), roomMade);
            this.attached = attached;
            this.txr = ring;
        }

        @Override
        int free() {
            return RingIndex.distance(lease, txr.tail(), numSlots);
        }

        /** After the tail: the slots the last txsync has not finished (tail itself is the ring's empty slot). */
        @Override
        int takenUpTo() {
            return RingIndex.next(ring.lpTail(), numSlots);
        }

        @Override
        void publish(int upTo) {
            txr.advanceTo(upTo);
        }

        /** Pushes what was just published, unless another thread is syncing: then the polling thread will. */
        @Override
        void wakeReceiver() {
            if (!trySync()) {
                attached.wakePoller();
            }
        }

        @Override
        void refresh() {
            trySync();
        }

        /**
         * Reclaims what the port already sent (the room may be there: then the sync wakes the sender),
         * and wakes the polling thread: if it sleeps waiting only for IN, nobody would txsync this ring
         * when the port's peer makes room, and the sender would wait for the poll timeout. Awake, the
         * thread sees the ring full and a sender waiting, and waits for OUT.
         */
        @Override
        void senderBlocked() {
            trySync();
            attached.wakePoller();
        }

        /** A back-pressured sender waits for room in this ring (a hint for the polling thread's interest). */
        boolean senderWaitingNow() {
            lock();
            try {
                return senderWaiting;
            } finally {
                unlock();
            }
        }

        private boolean trySync() {
            if (!sync.tryLock()) {
                return false;
            }
            try {
                syncLocked();
            } catch (RuntimeException e) {
                attached.failed(e); // the port's own failure, not the sender's
            } finally {
                sync.unlock();
            }
            return true;
        }

        void syncLock() {
            sync.lock();
        }

        void syncUnlock() {
            sync.unlock();
        }

        /** txsync under the sync lock; wakes back-pressured senders if it made room. True if tail moved. */
        boolean syncLocked() {
            int before = txr.tail();
            txr.sync();
            return roomAfterSync(before);
        }

        /**
         * Under the sync lock, after any txsync of the ring (ours, or one the port's pollable ran): if
         * the tail moved from {@code before}, wakes back-pressured senders waiting for room. True if it moved.
         */
        boolean roomAfterSync(int before) {
            if (txr.tail() == before) {
                return false;
            }
            boolean wake;
            lock();
            wake = senderWaiting;
            senderWaiting = false;
            unlock();
            if (wake) {
                roomMade.run();
            }
            return true;
        }
    }
}
