package io.jnetmap.vale;

import org.jctools.queues.varhandle.MpscVarHandleArrayQueue;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The process's control queue: requests of the event loops (HTTP) and of the switches' mailboxes, in
 * one JCTools MPSC queue, applied in the order they were offered.
 *
 * <ul>
 *   <li><b>Heavy</b> requests (attach, detach, create or remove ports and switches, change the lookup
 *   module: they open files, map memory, start threads, take {@code ValeSwitches.CONFIG}) run only on
 *   the housekeeping thread ({@link #runAll}), never in a port user's txsync.</li>
 *   <li><b>Light</b> requests (set a field, swap a reference: back-pressure, routes, flushing the
 *   learning table) may also run in a forwarding thread between two batches ({@link #runLight}), so
 *   that they apply within one batch time even when the housekeeping thread waits for a CPU. A light
 *   request takes no lock a forwarder or the housekeeper may hold while waiting for this queue (never
 *   {@code ValeSwitches.CONFIG}), never blocks and never opens anything.</li>
 * </ul>
 *
 * <p>The queue has one consumer at a time: whoever holds {@code draining} (a CAS, tried only when the
 * queue is not empty; a forwarder that finds it held moves on). So each request runs exactly once, and
 * in order: a light request behind a heavy one waits for the housekeeper.
 */
final class ControlRequests {
    /** Most requests waiting; a full queue refuses (offering never blocks). */
    static final int CAPACITY = 4096;
    /** Most light requests one forwarder call runs, so that a burst never holds a txsync for long. */
    static final int LIGHT_PER_BATCH = 16;

    private static final MpscVarHandleArrayQueue<Runnable> QUEUE = new MpscVarHandleArrayQueue<>(CAPACITY);
    private static final VarHandle DRAINING;
    /** 1 while a thread consumes the queue (the MPSC queue's single consumer). */
    @SuppressWarnings("unused") // accessed through DRAINING
    private static volatile int draining;

    static {
        try {
            DRAINING = MethodHandles.lookup().findStaticVarHandle(ControlRequests.class, "draining", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** A request that may run in a forwarder. */
    private record Light(Runnable task) implements Runnable {
        @Override
        public void run() {
            task.run();
        }
    }

    private ControlRequests() {
    }

    /** Queues {@code task}; false if the queue is full. Never blocks. */
    static boolean offer(Runnable task, boolean light) {
        return QUEUE.offer(light ? new Light(task) : task);
    }

    /**
     * Called by a forwarder between batches (no batch of its own running): runs the light requests at
     * the head of the queue, at most {@link #LIGHT_PER_BATCH}, unless another thread consumes the queue.
     * Costs two reads of the queue's indices when it is empty.
     */
    static void runLight() {
        if (QUEUE.isEmpty() || (int) DRAINING.getOpaque() != 0 || !DRAINING.compareAndSet(0, 1)) {
            return;
        }
        try {
            for (int i = 0; i < LIGHT_PER_BATCH; i++) {
                // relaxed: an element still being offered reads as null; it runs at a later batch (or on the housekeeper)
                if (!(QUEUE.relaxedPeek() instanceof Light)) {
                    break; // empty, or a heavy request first: it and everything after it wait for the housekeeper
                }
                run(QUEUE.relaxedPoll());
            }
        } finally {
            DRAINING.setRelease(0); // ordered store -> the next consumer sees the queue's consumer index we moved
        }
    }

    /**
     * Runs every request waiting (light and heavy), in order, at most {@link #CAPACITY}. On the
     * housekeeping thread, under ValeSwitches.CONFIG; waits for a forwarder that is running light
     * requests (they take no lock, so it finishes).
     */
    static void runAll() {
        if (QUEUE.isEmpty()) {
            return;
        }
        while (!DRAINING.compareAndSet(0, 1)) {
            Thread.yield(); // a forwarder runs a few light requests: give it the CPU to finish
        }
        try {
            for (int i = 0; i < CAPACITY; i++) {
                Runnable r = QUEUE.relaxedPoll();
                if (r == null) {
                    break; // empty, or being offered: the offerer unparks the housekeeper after it
                }
                run(r);
            }
        } finally {
            DRAINING.setRelease(0); // ordered store -> the next consumer sees the queue's consumer index we moved
        }
    }

    private static void run(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            // a request reports its own outcome; one that throws must not stop whoever drains the queue
        } catch (Error e) {
            // nor reach a port user's txsync, or end the housekeeper
            System.err.println("jnetmap: a control request failed: " + e);
        }
    }
}
