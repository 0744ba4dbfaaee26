package io.jnetmap.vale;

import io.jnetmap.core.RingIndex;
import io.jnetmap.core.spi.Kring;

import java.util.Arrays;

/**
 * The RX ring of a VALE port as a destination: the switch is its backend. Senders fill it under
 * leases ({@link DstRing}); the user's rxsync returns the slots it released ({@code hwcur}, under the
 * lock) and takes the published tail.
 */
final class RxDst extends DstRing {
    /**
     * Slots before it belong to the backend again (released by the user). Written by the ring's user
     * under the lock; read by senders under the lock and by the user without it.
     */
    private int hwcur;
    /** The krings of every open binding this ring, notified when packets arrive. Written under ValeSwitches.CONFIG. */
    private volatile Kring[] bound = new Kring[0];

    RxDst(String portName, RingRef ring, Runnable roomMade) {
        super(portName, ring, ring.lpTail(), roomMade);
        this.hwcur = ring.lpHead();
    }

    /** A new open binds this ring. Under ValeSwitches.CONFIG. */
    void bind(Kring k) {
        Kring[] b = Arrays.copyOf(bound, bound.length + 1);
        b[b.length - 1] = k;
        bound = b;
    }

    /** An open of this ring closed. Under ValeSwitches.CONFIG. */
    void unbind(Kring k) {
        bound = Arrays.stream(bound).filter(x -> x != k).toArray(Kring[]::new);
    }

    @Override
    int free() {
        return RingIndex.distance(lease, RingIndex.prev(hwcur, numSlots), numSlots);
    }

    /** The user's head: slots before it are released. */
    @Override
    int takenUpTo() {
        return ring.lpHead();
    }

    @Override
    void publish(int upTo) {
        // the receiver takes `published` at its next rxsync
    }

    @Override
    void wakeReceiver() {
        for (Kring k : bound) {
            k.notifyIfWaiting();
        }
    }

    /**
     * Takes back the slots the user released and publishes what senders completed. When the user
     * released nothing (a receiver polling an empty ring), nothing changes for the senders: the
     * published tail is read without the lock, from a cache line of its own (see {@link DstRing}), so
     * a busy-polling receiver neither fights senders for the lock nor shares a line with the words
     * they write under it.
     */
    void rxsync(Kring k) {
        if (k.rhead == hwcur) {
            // hwcur is written only here, by the ring's user: reading it without the lock is safe
            k.hwtail = lvPublished();
            k.hwcur = k.rhead;
            return;
        }
        boolean wake;
        lock();
        try {
            wake = senderWaiting && hwcur != k.rhead;
            if (wake) {
                senderWaiting = false;
            }
            hwcur = k.rhead;
            k.hwtail = lpPublished();
        } finally {
            unlock();
        }
        k.hwcur = k.rhead;
        if (wake) {
            roomMade.run();
        }
    }
}
