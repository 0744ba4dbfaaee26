package io.jnetmap.pipe;

import io.jnetmap.core.RingLayout;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * What a pipe keeps in shared memory besides the rings themselves: the words in each ring's backend
 * area ({@link RingLayout#BACKEND_OFFSET}) and the meaning of the descriptor's STATE word. Both ends of
 * a pipe live in one shared region (one region per pipe parent, {@code /dev/shm/jnetmap/pipe.PARENT}),
 * so two processes that open {@code X{ID} and {@code X}ID} meet there with no daemon.
 *
 * <pre>
 *  ring + 384  line 0   PIPE_TAIL u32  (k) written by the OTHER end's sync, read by this ring's sync:
 *                                      RX ring: first slot after the last complete packet the peer's
 *                                               txsync moved in (becomes this ring's tail);
 *                                      TX ring: last slot the peer's rxsync gave back (becomes tail).
 *  ring + 512  line 1   WAKE_SEQ u32   written by this ring's end at open and close: odd while
 *                                      OWNER_PID/EVENT_FD are valid, even while not (a seqlock)
 *              516      OWNER_PID u32  process that has this end open
 *              520      EVENT_FD u32   descriptor, in OWNER_PID, of the eventfd that wakes this
 *                                      ring's user; the peer duplicates it with pidfd_getfd(2)
 *  ring + 64            USER_WAIT u32  (RingLayout, u) what this ring's user sleeps on: the flag the
 *                                      peer checks after publishing, before it signals EVENT_FD
 *  descriptor STATE     pid of the process that has the end open, 0 = closed
 * </pre>
 *
 * Memory order: the peer stores slots, then PIPE_TAIL with release; this ring's sync loads PIPE_TAIL
 * (volatile, pairing with the sleeper's USER_WAIT store) before reading slots. Everything the other end
 * wrote is untrusted: PIPE_TAIL must stay within the backend's own slots, new RX slots must hold a
 * valid {@code bufIdx} and {@code len <= bufSize}, released slots a valid {@code bufIdx}; anything else
 * cuts the pipe off ({@link PipeBrokenException}). The accessors below carry the memory order in their
 * names ({@code lv} load volatile, {@code la} load acquire, {@code so} store ordered/release).
 *
 * <p>Slot k of a TX ring mirrors slot k of the peer's RX ring (netmap_pipe.c): txsync swaps the
 * descriptors of {@code [hwcur, head)} with the RX slots at the same indices (zero copy, both flagged
 * {@code NS_BUF_CHANGED}), so each pair of mirrored slots always holds exactly two buffers.
 */
public final class PipeLayout {
    public static final long PIPE_TAIL_OFFSET = RingLayout.backendOffset(0);
    public static final long WAKE_SEQ_OFFSET = RingLayout.backendOffset(1);
    public static final long OWNER_PID_OFFSET = WAKE_SEQ_OFFSET + 4;
    public static final long EVENT_FD_OFFSET = WAKE_SEQ_OFFSET + 8;

    /** Descriptor KIND of a master end ({@code X{ID}): "pip{" as a little-endian u32. */
    public static final int KIND_MASTER = 0x7b706970;
    /** Descriptor KIND of a slave end ({@code X}ID}): "pip}". */
    public static final int KIND_SLAVE = 0x7d706970;

    /** Prefix of the shared region of a pipe parent: {@code pipe.PARENT} with ':' as '-'. */
    public static final String REGION_PREFIX = "pipe.";

    private static final VarHandle INT = JAVA_INT.varHandle();

    private PipeLayout() {
    }

    /** PIPE_TAIL of the ring at offset {@code ring}, read volatile (pairs with the sleeper's USER_WAIT store). */
    public static int lvPipeTail(MemorySegment m, long ring) {
        return (int) INT.getVolatile(m, ring + PIPE_TAIL_OFFSET);
    }

    /** Stores PIPE_TAIL with release: the slots moved or released before it are visible to the ring's end first. */
    public static void soPipeTail(MemorySegment m, long ring, int tail) {
        INT.setRelease(m, ring + PIPE_TAIL_OFFSET, tail);
    }

    /** WAKE_SEQ, read with acquire: OWNER_PID and EVENT_FD read after it are those it validates. */
    public static int laWakeSeq(MemorySegment m, long ring) {
        return (int) INT.getAcquire(m, ring + WAKE_SEQ_OFFSET);
    }

    /** Stores WAKE_SEQ with release: OWNER_PID and EVENT_FD written before it are visible with it. */
    public static void soWakeSeq(MemorySegment m, long ring, int seq) {
        INT.setRelease(m, ring + WAKE_SEQ_OFFSET, seq);
    }

    /** The shared region holding every pipe of {@code parent} ({@code vale0:a} becomes {@code pipe.vale0-a}). */
    public static String regionName(String parent) {
        return REGION_PREFIX + parent.replace(':', '-');
    }
}
