package io.jnetmap.bench.pipe;

import io.jnetmap.bench.Result;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import org.jctools.queues.varhandle.SpscVarHandleArrayQueue;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.ThreadParams;

import java.lang.foreign.MemorySegment;
import java.util.Queue;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * Moving 60-byte packets from one thread to another, busy-polling, in one process: through a pipe
 * (the sender sets each slot's length, the receiver reads it: netmap's "moving, not processing"),
 * through a pipe where both touch all 60 bytes, and through the peers a Java programmer would use
 * instead: JCTools' SPSC queue (VarHandle flavour) and ArrayBlockingQueue, passing preallocated packet
 * objects. Producer and consumer run in one {@code @Group} (JCTools' QueueThroughputBackoffNone);
 * throughput is what the consumer received ({@code received}, an {@link AuxCounters} metric), with
 * counters for full rings (failed offers) and empty polls.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class PipeBench {
    static final int LEN = 60;
    static final int SLOTS = 1024;

    /** Per-thread counters, summed over the group by JMH. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Counts {
        public long sent;
        public long received;
        public long fullRings;
        public long emptyPolls;

        @Setup(Level.Iteration)
        public void clear() {
            sent = 0;
            received = 0;
            fullRings = 0;
            emptyPolls = 0;
        }

        /** Producer and consumer each on a CPU of their own (see BenchMain.pinGroupThread). */
        @Setup(Level.Trial)
        public void pin(ThreadParams tp) {
            io.jnetmap.bench.BenchMain.pinGroupThread(tp.getGroupThreadIndex());
        }
    }

    /** A pipe whose master sends and slave receives, both in this JVM. */
    public abstract static class PipePair {
        Port tx;
        Port rx;

        @Setup(Level.Trial)
        public void open() {
            String parent = "bench" + ProcessHandle.current().pid() + "x" + (System.nanoTime() & 0xffffff);
            tx = Netmap.open(parent + "{1@conf:pipes=1,slots=" + SLOTS);
            rx = Netmap.open(parent + "}1");
        }

        @TearDown(Level.Trial)
        public void close() {
            tx.close();
            rx.close();
        }
    }

    @State(Scope.Group)
    public static class PipeState extends PipePair {
        @Param({"256", "32", "512"})
        public int batch;
    }

    /** The variant that touches the bytes: batch 256. */
    @State(Scope.Group)
    public static class TouchState extends PipePair {
        static final int BATCH = 256;
    }

    /** Sender: fill up to a batch of free slots (length 60), publish with one txsync. */
    static int fill(Ring t, int batch, Counts c) {
        int n = Math.min(batch, t.space());
        if (n == 0) {
            t.sync();
            c.fullRings++;
            return 0;
        }
        int i = t.head();
        for (int k = 0; k < n; k++) {
            t.setSlot(i, LEN, 0);
            i = t.nextSlot(i);
        }
        t.advanceTo(i);
        t.sync();
        c.sent += n;
        return n;
    }

    /** Receiver: one rxsync (gives back the last batch, brings new packets), read each length. */
    static long drain(Ring r, int batch, Counts c) {
        r.sync();
        int n = Math.min(batch, r.space());
        if (n == 0) {
            c.emptyPolls++;
            return 0;
        }
        long sum = 0;
        int i = r.head();
        for (int k = 0; k < n; k++) {
            sum += r.len(i);
            i = r.nextSlot(i);
        }
        r.advanceTo(i);
        c.received += n;
        return sum;
    }

    @Benchmark
    @Group("inproc")
    @GroupThreads(1)
    @Result(name = "pipe.inproc.60B.jmh.b{batch}", unit = "Mpps", scale = 1e-6, metric = "received")
    public int inproc(PipeState s, Counts c) {
        return fill(s.tx.txRing(0), s.batch, c);
    }

    @Benchmark
    @Group("inproc")
    @GroupThreads(1)
    public long inprocReceive(PipeState s, Counts c) {
        return drain(s.rx.rxRing(0), s.batch, c);
    }

    /** Sender writes the 60 bytes of every packet (7 longs and an int), receiver reads them all. */
    @Benchmark
    @Group("touch")
    @GroupThreads(1)
    @Result(name = "pipe.inproc.60B.touch", unit = "Mpps", scale = 1e-6, metric = "received")
    public int touch(TouchState s, Counts c) {
        Ring t = s.tx.txRing(0);
        int n = Math.min(TouchState.BATCH, t.space());
        if (n == 0) {
            t.sync();
            c.fullRings++;
            return 0;
        }
        MemorySegment m = t.memory();
        int i = t.head();
        for (int k = 0; k < n; k++) {
            long off = t.bufOffset(i);
            for (int b = 0; b < 56; b += 8) {
                m.set(JAVA_LONG_UNALIGNED, off + b, off + b);
            }
            m.set(JAVA_INT_UNALIGNED, off + 56, k);
            t.setSlot(i, LEN, 0);
            i = t.nextSlot(i);
        }
        t.advanceTo(i);
        t.sync();
        c.sent += n;
        return n;
    }

    @Benchmark
    @Group("touch")
    @GroupThreads(1)
    public long touchReceive(TouchState s, Counts c) {
        Ring r = s.rx.rxRing(0);
        r.sync();
        int n = Math.min(TouchState.BATCH, r.space());
        if (n == 0) {
            c.emptyPolls++;
            return 0;
        }
        MemorySegment m = r.memory();
        long sum = 0;
        int i = r.head();
        for (int k = 0; k < n; k++) {
            long off = r.bufOffset(i);
            int len = r.len(i);
            for (int b = 0; b + 8 <= len; b += 8) {
                sum += m.get(JAVA_LONG_UNALIGNED, off + b);
            }
            sum += m.get(JAVA_INT_UNALIGNED, off + 56);
            i = r.nextSlot(i);
        }
        r.advanceTo(i);
        c.received += n;
        return sum;
    }

    // ----------------------------------------------------------------------------------------------
    // peers

    /** A preallocated packet, as a Java program would pass one between threads. */
    public static final class Packet {
        final byte[] data = new byte[2048];
        int len;
    }

    /**
     * A queue of {@link #SLOTS} packets and a pool of 4x as many: the producer reuses a packet only
     * after the consumer has taken it (FIFO), so no packet is returned through a second queue; this
     * favours the peers (one queue operation per packet, where the pipe also returns buffers).
     */
    public abstract static class QueueState {
        static final int POOL = 4 * SLOTS;
        final Packet[] pool = new Packet[POOL];
        Queue<Packet> queue;
        int next;

        @Setup(Level.Trial)
        public void fillPool() {
            for (int i = 0; i < POOL; i++) {
                pool[i] = new Packet();
            }
            queue = newQueue();
        }

        abstract Queue<Packet> newQueue();
    }

    @State(Scope.Group)
    public static class JcToolsState extends QueueState {
        @Override
        Queue<Packet> newQueue() {
            return new SpscVarHandleArrayQueue<>(SLOTS);
        }
    }

    @State(Scope.Group)
    public static class AbqState extends QueueState {
        @Override
        Queue<Packet> newQueue() {
            return new ArrayBlockingQueue<>(SLOTS);
        }
    }

    static int offer(QueueState s, Counts c) {
        Queue<Packet> q = s.queue;
        Packet[] pool = s.pool;
        int n = 0;
        int i = s.next;
        for (; n < 256; n++) {
            Packet p = pool[i & (QueueState.POOL - 1)];
            p.len = LEN;
            if (!q.offer(p)) {
                c.fullRings++;
                break;
            }
            i++;
        }
        s.next = i;
        c.sent += n;
        return n;
    }

    static long poll(QueueState s, Counts c) {
        Queue<Packet> q = s.queue;
        long sum = 0;
        int n = 0;
        for (; n < 256; n++) {
            Packet p = q.poll();
            if (p == null) {
                c.emptyPolls++;
                break;
            }
            sum += p.len;
        }
        c.received += n;
        return sum;
    }

    @Benchmark
    @Group("jctools")
    @GroupThreads(1)
    @Result(name = "peer.jctools.60B", unit = "Mpps", scale = 1e-6, metric = "received")
    public int jctools(JcToolsState s, Counts c) {
        return offer(s, c);
    }

    @Benchmark
    @Group("jctools")
    @GroupThreads(1)
    public long jctoolsPoll(JcToolsState s, Counts c) {
        return poll(s, c);
    }

    @Benchmark
    @Group("abq")
    @GroupThreads(1)
    @Result(name = "peer.abq.60B", unit = "Mpps", scale = 1e-6, metric = "received")
    public int abq(AbqState s, Counts c) {
        return offer(s, c);
    }

    @Benchmark
    @Group("abq")
    @GroupThreads(1)
    public long abqPoll(AbqState s, Counts c) {
        return poll(s, c);
    }

    // ----------------------------------------------------------------------------------------------
    // allocation

    /** One thread, both ends: fill, txsync, rxsync, read, release, per packet. Must allocate nothing. */
    @State(Scope.Thread)
    public static class CycleState extends PipePair {
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @OperationsPerInvocation(256)
    @Result(name = "pipe.cycle", unit = "ns")
    @Result(name = "pipe.alloc", unit = "B/op", metric = "gc.alloc.rate.norm")
    public long cycle(CycleState s) {
        Ring t = s.tx.txRing(0);
        Ring r = s.rx.rxRing(0);
        int i = t.head();
        int n = Math.min(256, t.space());
        for (int k = 0; k < n; k++) {
            t.setSlot(i, LEN, 0);
            i = t.nextSlot(i);
        }
        t.advanceTo(i);
        t.sync();
        r.sync();
        long sum = 0;
        int j = r.head();
        int tail = r.tail();
        while (j != tail) {
            sum += r.len(j);
            j = r.nextSlot(j);
        }
        r.advanceTo(j);
        r.sync();
        return sum;
    }
}
