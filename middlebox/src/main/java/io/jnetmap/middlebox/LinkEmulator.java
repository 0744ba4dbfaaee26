package io.jnetmap.middlebox;

import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.sys.Affinity;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * netmap's {@code tlem} between two ports: each direction is a {@link LinkSpec} (delay, bandwidth, loss,
 * queue, reordering). Per direction two threads: the <i>stamper</i> takes each batch from the input's
 * RX ring, gives every packet its exit time (when the link is free, plus its serialization time, plus
 * the delay) or drops it (loss, queue full), and copies it into a delay line; the <i>releaser</i> watches
 * the clock (spinning while the next exit is near, parking while it is far) and sends each packet on
 * the output's TX ring when due. Both work by batch, as netmap's tlem: the stamper reads the clock once
 * per RX batch and publishes the batch's records at once; the releaser sends every packet that is due in
 * one TX sync and publishes its position once per sync. The delay line is one off-heap ring of records ({@code exit, enter,
 * len, bytes}) between exactly two threads, published with release/acquire positions: nothing
 * allocates per packet. Whenever the line runs empty the stamper starts again at its beginning, so a
 * line that holds little at a time stays in the caches.
 *
 * <p>Packets leave in the order they entered, unless the spec asks for reordering (a packet overtaken by
 * the next of its batch). Counters and the delays actually seen at the exit ({@link Stats}) are
 * readable from any thread.
 */
public final class LinkEmulator implements AutoCloseable {
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final VarHandle POS = ValueLayout.JAVA_LONG.varHandle();
    /** Record header: exit time, enter time, length (-1: skip to the start), wire bytes. */
    private static final int HEADER = 24;
    /** Bytes of delay line per direction unless told. */
    public static final long DEFAULT_LINE_BYTES = 64L << 20;
    /** The stamper starts again at the line's start when the line is empty and it is further than this into it. */
    private static final long RESTART_BYTES = 256 << 10;
    /** Closer than this, the releaser spins on the clock instead of parking. */
    private static final long SPIN_NANOS = 200_000;
    /** Spins of an idle thread before it yields the CPU. */
    private static final int SPINS = 64;
    /** Idle this long, a thread that may sleep parks between looks. */
    private static final long IDLE_PARK_AFTER_NANOS = 1_000_000;

    private final Direction[] dirs;
    private final List<Thread> threads = new ArrayList<>();
    private final Arena arena = Arena.ofShared();
    private volatile boolean stop;
    private volatile Throwable failure;
    private final boolean busy;

    /**
     * Counters of one direction. Delays are measured from the stamper's receive time to the releaser's
     * send time of each packet; {@code lateness} is how much later than its exit time a packet was sent
     * (the machine's share: scheduling, a full output); the link rate is computed on the exit times the
     * stamper gave (the emulated link's own clock), the delivered rate on the times packets were sent.
     * {@code lineFull}: batches the stamper cut short because the delay line (the emulator's memory, not
     * the emulated queue) was full; the rest of such a batch waits in the input ring, nothing is dropped.
     * {@code outputFull}: times the releaser had due packets and found the output ring full (the
     * receiver behind: such packets leave late, as {@code lateness} shows).
     */
    public record Stats(long received, long sent, long bytesSent, long wireBytesSent, long lost, long queueDrops,
                        long lineFull, long reordered, long delayMinNanos, long delayMaxNanos, double delayMeanNanos,
                        double scheduledDelayMeanNanos, double latenessMeanNanos, long latenessMaxNanos, long firstExitNanos, long lastExitNanos,
                        long firstSentNanos, long lastSentNanos, long outputFull) {
        /** The emulated link's rate between the first and the last packet sent, in bit/s of wire bytes (0 if under two packets). */
        public double linkBitsPerSec(long firstWireBytes) {
            long span = lastExitNanos - firstExitNanos;
            return sent < 2 || span <= 0 ? 0 : (wireBytesSent - firstWireBytes) * 8e9 / span;
        }

        /**
         * The rate a receiver got: the same bytes from the first packet's exit time (when the link began
         * to deliver) to the time the last one was actually sent. Never above the link rate, since no
         * packet is sent before its exit time; below it by the machine's lag on the last packet. (Measured
         * from the first send instead, a releaser that starts late sends the backlog already due at once,
         * and the shortened span shows a rate the link never had.)
         */
        public double deliveredBitsPerSec(long firstWireBytes) {
            long span = lastSentNanos - firstExitNanos;
            return sent < 2 || span <= 0 ? 0 : (wireBytesSent - firstWireBytes) * 8e9 / span;
        }
    }

    /**
     * Starts emulating: {@code aToB} for what A receives and B sends, {@code bToA} the other way.
     * {@code cpus}: four CPUs for the A->B stamper and releaser, then B->A's, or empty (not pinned);
     * {@code busy}: never park; {@code lineBytes}: delay-line memory per direction.
     */
    public static LinkEmulator start(Port a, Port b, LinkSpec aToB, LinkSpec bToA, long lineBytes, boolean busy, int... cpus) {
        return new LinkEmulator(a, b, aToB, bToA, lineBytes, busy, true, cpus);
    }

    /**
     * As {@link #start}, but without threads: the caller moves packets with {@link #stampOnce} and
     * {@link #releaseOnce}, from one thread per direction or one for both (a benchmark of the per-packet
     * work on one core, a test stepping the emulator).
     */
    public static LinkEmulator open(Port a, Port b, LinkSpec aToB, LinkSpec bToA, long lineBytes) {
        return new LinkEmulator(a, b, aToB, bToA, lineBytes, true, false);
    }

    /** One stamper pass of direction 0 (A to B) or 1 (B to A), for an emulator made by {@link #open}: the packets taken. */
    public int stampOnce(int direction) {
        return dirs[direction].stampBatch();
    }

    /**
     * One releaser pass of direction 0 or 1, for an emulator made by {@link #open}: the packets sent; 0
     * if none is waiting or the output is full; minus the nanoseconds until the oldest is due.
     */
    public long releaseOnce(int direction) {
        return dirs[direction].releaseBatch();
    }

    private LinkEmulator(Port a, Port b, LinkSpec aToB, LinkSpec bToA, long lineBytes, boolean busy, boolean withThreads, int... cpus) {
        if (lineBytes < 4096) {
            throw new IllegalArgumentException("delay line=" + lineBytes + " bytes (expected: >= 4096)");
        }
        this.busy = busy;
        long line = (lineBytes + 7) & ~7L;
        dirs = new Direction[] {new Direction("a->b", a.rxRing(0), b.txRing(0), aToB, line, 1),
            new Direction("b->a", b.rxRing(0), a.txRing(0), bToA, line, 2)};
        for (int d = 0; withThreads && d < 2; d++) {
            Direction dir = dirs[d];
            int c0 = cpus.length == 0 ? -1 : cpus[(2 * d) % cpus.length];
            int c1 = cpus.length == 0 ? -1 : cpus[(2 * d + 1) % cpus.length];
            threads.add(Thread.ofPlatform().daemon().name("tlem-stamp-" + dir.name).start(() -> guard(c0, dir::stampLoop)));
            threads.add(Thread.ofPlatform().daemon().name("tlem-release-" + dir.name).start(() -> guard(c1, dir::releaseLoop)));
        }
    }

    private void guard(int cpu, Runnable body) {
        try {
            if (cpu >= 0) {
                Affinity.pinCurrentThread(cpu);
            }
            body.run();
        } catch (Throwable t) {
            failure = t;
        }
    }

    /** Counters of A to B (0) or B to A (1). */
    public Stats stats(int direction) {
        return dirs[direction].stats();
    }

    /** What stopped a thread, or null. */
    public Throwable failure() {
        return failure;
    }

    /** Stops the threads; packets still in the delay lines are lost. Idempotent; the ports stay open. */
    @Override
    public synchronized void close() {
        if (stop) {
            return;
        }
        stop = true;
        for (Thread t : threads) {
            LockSupport.unpark(t);
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        arena.close();
    }

    /**
     * One wait of a thread with nothing to do (an empty input, a full output): a few spins, then a
     * {@link Thread#yield}, which costs a system call but hands the CPU to a runnable thread of the
     * pipeline (a sender, the other half of the direction, a receiver) where CPUs are fewer than
     * busy threads; on a machine with a CPU per thread it returns at once, so this is still a
     * busy-wait. Unless {@code busy}, a thread idle for over a millisecond parks between looks.
     */
    private void idle(long[] idleSince) {
        long since = idleSince[0];
        if (since == 0) {
            idleSince[0] = System.nanoTime();
            idleSince[1] = 0;
        } else if (++idleSince[1] < SPINS) {
            Thread.onSpinWait();
        } else if (!busy && System.nanoTime() - since > IDLE_PARK_AFTER_NANOS) {
            LockSupport.parkNanos(20_000);
        } else {
            Thread.yield();
        }
    }

    private final class Direction {
        final String name;
        final Ring rx;
        final Ring tx;
        final LinkSpec spec;
        final MemorySegment line;
        final long cap;
        final SplittableRandom random;
        /** Positions in the line (monotonic): written by the stamper, by the releaser. */
        final MemorySegment positions;
        // stamper's
        long linkFreeAt;
        long lastExit;
        long writePos;
        /** writePos % cap, kept beside it (a division per packet cost more than the rest of the stamp). */
        long writeOff;
        /** The releaser's position as last read: the stamper reads the shared one only when the line looks full. */
        long readCache;
        // releaser's
        long readPos;
        /** readPos % cap. */
        long readOff;
        long written;
        // counters: index 0 received, 1 lost, 2 queue drops, 3 line full, 4 reordered (stamper); 5 sent, 6 bytes,
        // 7 wire bytes, 8 delay sum, 9 delay min, 10 delay max, 11 first sent, 12 last sent, 13 lateness sum,
        // 14 lateness max, 15 first exit, 16 last exit, 17 scheduled delay sum, 18 output full (releaser)
        final long[] c = new long[19];
        final long[] published = new long[19];

        Direction(String name, Ring rx, Ring tx, LinkSpec spec, long cap, long seed) {
            this.name = name;
            this.rx = rx;
            this.tx = tx;
            this.spec = spec;
            this.cap = cap;
            this.line = arena.allocate(cap, 64);
            this.positions = arena.allocate(256, 128);
            this.random = new SplittableRandom(System.nanoTime() * 31 + seed);
            c[9] = Long.MAX_VALUE;
        }

        long readPos() {
            return (long) POS.getAcquire(positions, 128L);
        }

        long writtenPos() {
            return (long) POS.getAcquire(positions, 0L);
        }

        Stats stats() {
            long[] s = new long[19];
            synchronized (published) {
                System.arraycopy(published, 0, s, 0, s.length);
            }
            // the two threads publish their own halves
            return new Stats(s[0], s[5], s[6], s[7], s[1], s[2], s[3], s[4], s[5] == 0 ? 0 : s[9], s[10],
                    s[5] == 0 ? 0 : (double) s[8] / s[5], s[5] == 0 ? 0 : (double) s[17] / s[5], s[5] == 0 ? 0 : (double) s[13] / s[5], s[14], s[15], s[16], s[11], s[12], s[18]);
        }

        void publishHalf(int from, int to) {
            synchronized (published) {
                System.arraycopy(c, from, published, from, to - from);
            }
        }

        void stampLoop() {
            long[] idle = new long[2];
            while (!stop) {
                if (stampBatch() > 0) {
                    idle[0] = 0;
                } else {
                    idle(idle);
                }
            }
        }

        /**
         * One RX sync and everything it brought into the delay line, with one clock read for the batch;
         * publishes the records once. Returns the packets taken (0: none arrived, or the line is full).
         */
        int stampBatch() {
            rx.sync();
            int n = rx.space();
            if (n == 0) {
                return 0;
            }
            long now = System.nanoTime(); // the batch's receive time
            if (writeOff > RESTART_BYTES && readPos() == writePos) {
                restart();
            }
            MemorySegment rm = rx.memory();
            int i = rx.head();
            int k = 0;
            while (k < n) {
                int next = rx.nextSlot(i);
                if (k + 1 < n && spec.reorder() > 0 && random.nextDouble() < spec.reorder()) {
                    if (!room(rx.len(i) + rx.len(next) + HEADER + 8)) {
                        break;
                    }
                    stamp(next, now); // the next one overtakes this one
                    stamp(i, now);
                    c[4]++;
                    k += 2;
                    i = rx.nextSlot(next);
                    continue;
                }
                long w = Slots.word(rm, Slots.at(rx, i));
                int len = Slots.len(w);
                if (!room(len)) {
                    break;
                }
                stamp(w, len, now);
                k++;
                i = next;
            }
            if (k < n) {
                c[3]++; // the rest waits in the input ring (and backs up into the sender) until the line drains
                if (k == 0) {
                    return 0;
                }
            }
            rx.advanceTo(i);
            // ordered store -> the releaser sees whole records up to writePos
            POS.setRelease(positions, 0L, writePos);
            c[0] += k;
            publishHalf(0, 5);
            return k;
        }

        /**
         * The line is empty (the releaser has taken everything before {@code writePos}): the next records
         * go to its start, after a skip mark, so that a line that holds little at a time keeps reusing the
         * same cache-warm bytes instead of walking the whole line (64 MiB by default) through the caches.
         */
        private void restart() {
            if (cap - writeOff >= HEADER) {
                line.set(INT, writeOff + 16, -1);
            }
            writePos += cap - writeOff;
            writeOff = 0;
        }

        /**
         * True if a packet of {@code len} bytes fits in the line now (after a wrap if it must): the
         * stamper reads the releaser's position only when the one it cached says no.
         */
        private boolean room(int len) {
            long rec = (HEADER + len + 7) & ~7;
            long off = writeOff;
            long need = off + rec > cap ? cap - off + rec : rec;
            if (writePos + need - readCache <= cap) {
                return true;
            }
            readCache = readPos();
            return writePos + need - readCache <= cap;
        }

        private void stamp(int slot, long now) {
            long w = Slots.word(rx.memory(), Slots.at(rx, slot));
            stamp(w, Slots.len(w), now);
        }

        /** Stamps the packet of {@code len} bytes in the buffer RX slot word {@code w} names. */
        private void stamp(long w, int len, long now) {
            int wire = spec.wireBytes(len);
            long departure = now;
            if (spec.bitsPerSec() > 0) {
                long start = Math.max(now, linkFreeAt);
                long backlog = (long) ((start - now) * (spec.bitsPerSec() / 8e9));
                if (backlog + wire > spec.queueBytes()) {
                    c[2]++;
                    return;
                }
                linkFreeAt = start + (long) (wire * 8e9 / spec.bitsPerSec());
                departure = linkFreeAt;
            }
            if (spec.plr() > 0 && random.nextDouble() < spec.plr()
                    || spec.ber() > 0 && random.nextDouble() < 1 - Math.pow(1 - spec.ber(), 8.0 * wire)) {
                c[1]++;
                return;
            }
            LinkSpec.Delay d = spec.delay();
            long exit = departure + (d.kind() == LinkSpec.Delay.Kind.CONSTANT ? d.minNanos() : d.sample(random.nextDouble()));
            exit = Math.max(exit, lastExit); // the line is a FIFO: nobody leaves before the one ahead
            lastExit = exit;
            int rec = (HEADER + len + 7) & ~7;
            long off = writeOff;
            if (off + rec > cap) { // room() made sure the wrap fits
                if (cap - off >= HEADER) {
                    line.set(INT, off + 16, -1);
                }
                writePos += cap - off;
                off = 0;
            }
            writeOff = off + rec == cap ? 0 : off + rec;
            line.set(LONG, off, exit);
            line.set(LONG, off + 8, now);
            line.set(INT, off + 16, len);
            line.set(INT, off + 20, wire);
            MemorySegment.copy(rx.memory(), Slots.bufOffset(rx, w), line, off + HEADER, len);
            writePos += rec;
        }

        void releaseLoop() {
            long[] idle = new long[2];
            while (!stop) {
                long r = releaseBatch();
                if (r > 0) {
                    idle[0] = 0;
                } else if (r < 0 && !busy && -r > SPIN_NANOS) {
                    LockSupport.parkNanos(Math.min(-r - SPIN_NANOS / 2, 1_000_000));
                } else if (r < 0) {
                    Thread.onSpinWait(); // the next exit is near: keep the CPU (a yield may come back milliseconds late)
                } else {
                    idle(idle); // nothing in the line: spin, or yield to whoever else needs the CPU
                }
            }
        }

        /**
         * Sends every packet that is due, as many as the output has room for, with one TX sync for all
         * of them and one publication of the line's read position. Returns the packets sent; 0 if the
         * line is empty or the output full (the packet waits, as on a wire); minus the nanoseconds until
         * the oldest packet is due if it is not yet.
         */
        long releaseBatch() {
            if (readPos == written) {
                written = writtenPos();
                if (readPos == written) {
                    return 0;
                }
            }
            long off = readOff;
            if (cap - off < HEADER || line.get(INT, off + 16) == -1) {
                readPos += cap - off;
                readOff = 0;
                POS.setRelease(positions, 128L, readPos); // ordered store -> the stamper may wrap
                return releaseBatch();
            }
            long exit = line.get(LONG, off);
            long now = System.nanoTime();
            if (exit - now > 0) {
                return -(exit - now);
            }
            int room = tx.space();
            if (room == 0) {
                tx.sync();
                room = tx.space();
                if (room == 0) {
                    c[18]++;
                    publishHalf(18, 19);
                    return 0;
                }
            }
            written = writtenPos(); // what the stamper added since: due ones leave with this sync too
            int j = tx.head();
            int moved = 0;
            long sent = c[5];
            long bytes = c[6];
            long wireBytes = c[7];
            long delaySum = c[8];
            long delayMin = c[9];
            long delayMax = c[10];
            long lateSum = c[13];
            long lateMax = c[14];
            long scheduledSum = c[17];
            long lastExit = c[16];
            int fit = tx.bufSize();
            MemorySegment out = tx.memory();
            while (moved < room && readPos != written) {
                off = readOff;
                int len = cap - off < HEADER ? -1 : line.get(INT, off + 16);
                if (len == -1) {
                    readPos += cap - off;
                    readOff = 0;
                    continue;
                }
                exit = line.get(LONG, off);
                if (exit - now > 0) {
                    break;
                }
                int n = Math.min(len, fit);
                long ts = Slots.at(tx, j);
                long tw = Slots.word(out, ts);
                MemorySegment.copy(line, off + HEADER, out, Slots.bufOffset(tx, tw), n);
                Slots.setWord(out, ts, Slots.make(tw, n, tw & Slots.BUF_CHANGED));
                long enter = line.get(LONG, off + 8);
                long delay = now - enter;
                if (sent == 0) {
                    c[11] = now;
                    c[15] = exit;
                }
                sent++;
                bytes += len;
                wireBytes += line.get(INT, off + 20);
                delaySum += delay;
                delayMin = Math.min(delayMin, delay);
                delayMax = Math.max(delayMax, delay);
                lateSum += now - exit;
                lateMax = Math.max(lateMax, now - exit);
                scheduledSum += exit - enter;
                lastExit = exit;
                int rec = (HEADER + len + 7) & ~7;
                readPos += rec;
                readOff = off + rec == cap ? 0 : off + rec;
                j = tx.nextSlot(j);
                moved++;
            }
            tx.advanceTo(j);
            tx.sync();
            // ordered store -> the stamper may reuse the bytes before readPos
            POS.setRelease(positions, 128L, readPos);
            c[5] = sent;
            c[6] = bytes;
            c[7] = wireBytes;
            c[8] = delaySum;
            c[9] = delayMin;
            c[10] = delayMax;
            c[12] = now;
            c[13] = lateSum;
            c[14] = lateMax;
            c[16] = lastExit;
            c[17] = scheduledSum;
            publishHalf(5, 19);
            return moved;
        }
    }
}
