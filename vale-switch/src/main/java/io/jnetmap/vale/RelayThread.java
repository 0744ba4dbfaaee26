package io.jnetmap.vale;

import io.jnetmap.core.Port;
import io.jnetmap.poll.Pollable;
import io.jnetmap.sys.Epoll;
import io.jnetmap.sys.EventFd;
import io.jnetmap.sys.Linux;

import java.util.concurrent.TimeUnit;

/**
 * A thread of the switch's host that moves packets between two ports for another process
 * ({@link RemoteBinding}: a VALE port bound through the requester's pipe; {@link MonitorRelay}: a
 * monitor's copies into the requester's pipe): it spins while rounds move packets, then sleeps in
 * epoll on both ports' pollables and a wake-up eventfd, asking each side only for what could let the
 * next round move something ({@link #interest}). A failure ends the thread and is kept for the
 * housekeeper ({@link #failure()}).
 */
abstract class RelayThread {
    /** Empty rounds before the relay thread sleeps. */
    private static final int SPIN = 200;

    /** The requesting process. */
    final int owner;
    private final Port a;
    private final Port b;
    /** What the epoll set waits for on each port's descriptor ({@link Pollable#fdEvents}). */
    private final int fdInterestA;
    private final int fdInterestB;
    private final EventFd wake = EventFd.create();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Throwable failure;

    /**
     * {@code a}, {@code b}: the two ports the relay syncs, their descriptors watched for
     * {@code fdInterestA}, {@code fdInterestB}; {@code name}: the thread's.
     */
    RelayThread(String name, int owner, Port a, int fdInterestA, Port b, int fdInterestB) {
        this.owner = owner;
        this.a = a;
        this.b = b;
        this.fdInterestA = fdInterestA;
        this.fdInterestB = fdInterestB;
        this.thread = Thread.ofPlatform().daemon().name(name).unstarted(this::run);
    }

    /** One round; true if anything moved. In the relay thread. */
    abstract boolean relayOnce();

    /**
     * Before sleeping: the {@link Pollable} events to wait for on {@code a} ({@code side} 0) or
     * {@code b} (1), so that a wake-up means a round can move something.
     */
    abstract int interest(int side);

    /** After an empty round (in the relay thread); the relay ends when this returns false. */
    boolean idle() {
        return true;
    }

    final void start() {
        thread.start();
    }

    /** Why the relay stopped, if it failed; null while it runs fine. */
    final Throwable failure() {
        return failure;
    }

    final boolean alive() {
        return thread.isAlive();
    }

    /** Wakes the relay thread (to look at a flag the caller set). */
    final void wake() {
        wake.signal();
    }

    /**
     * Stops the thread (waiting up to 10 s for it). True if it stopped: then the caller may close the
     * ports, and the wake-up eventfd is closed; false leaves everything open for the thread.
     */
    final boolean stop() {
        running = false;
        wake.signal();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            return false;
        }
        wake.close();
        return true;
    }

    private void run() {
        Pollable pa = a.pollable();
        Pollable pb = b.pollable();
        try (Epoll epoll = new Epoll(3)) {
            epoll.add(pa.fd(), pa.fdEvents(fdInterestA), 0);
            epoll.add(pb.fd(), pb.fdEvents(fdInterestB), 1);
            epoll.add(wake.fd(), Linux.EPOLLIN, 2);
            int spins = 0;
            while (running) {
                if (relayOnce()) {
                    spins = 0;
                    continue;
                }
                if (!idle()) {
                    break;
                }
                if (++spins <= SPIN) {
                    Thread.onSpinWait();
                    continue;
                }
                spins = 0;
                try {
                    int ia = interest(0);
                    int ib = interest(1);
                    int ready = pa.arm(ia) | pb.arm(ib);
                    if (ready == 0 && running) {
                        epoll.await(100);
                    }
                } finally {
                    pa.disarm();
                    pb.disarm();
                    wake.drain();
                }
            }
        } catch (Throwable t) {
            failure = t;
        }
    }

    /** Whether a TX ring of {@code p} holds packets not yet sent. */
    static boolean txPending(Port p) {
        for (int i = 0; i < p.txRings(); i++) {
            if (p.txRing(i).txPending()) {
                return true;
            }
        }
        return false;
    }

    /** Whether some TX ring of {@code p} is full. */
    static boolean anyFull(Port p) {
        for (int i = 0; i < p.txRings(); i++) {
            if (p.txRing(i).space() == 0) {
                return true;
            }
        }
        return false;
    }

    /** Whether every TX ring of {@code p} is full. */
    static boolean allFull(Port p) {
        for (int i = 0; i < p.txRings(); i++) {
            if (p.txRing(i).space() != 0) {
                return false;
            }
        }
        return true;
    }
}
