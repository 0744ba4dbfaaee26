package io.jnetmap.middlebox;

import io.jnetmap.core.Port;
import io.jnetmap.core.Region;
import io.jnetmap.core.Ring;
import io.jnetmap.core.Slot;
import io.jnetmap.poll.Pollable;
import io.jnetmap.poll.Poller;
import io.jnetmap.poll.WaitStrategy;
import io.jnetmap.sys.Affinity;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A middlebox: inputs, each with its outputs and a {@link BatchProcessor}; threads that receive
 * batches on every RX ring of every input, let the processor decide, and move the packets (buffer swap
 * where input and output share a region, copy otherwise); counters any thread can read.
 *
 * <pre>{@code
 * try (Middlebox mb = Middlebox.builder()
 *         .input(a, List.of(b), batch -> { })          // everything from a to b
 *         .input(b, List.of(a), batch -> { })          // and back
 *         .start()) {
 *     ...
 * }
 * }</pre>
 *
 * <p><b>Threads.</b> {@link Threads#ONE}: one thread serves every ring (and sleeps in a {@link Poller} on
 * the inputs when they are idle). {@link Threads#PER_RING}: one thread per RX ring of each input; the
 * thread of RX ring r sends on TX ring {@code r % txRings} of each output, so two threads never share a
 * ring (checked: a TX ring written by two threads is an error). Threads may be pinned ({@link
 * Builder#cpus}).
 *
 * <p><b>Full outputs.</b> A packet whose output ring is full (after a txsync) waits in an overflow queue
 * of extra buffers ({@link Builder#overflow}, taken from the first input's region) and goes out, in
 * order, as soon as the ring has room; with no extra buffer left it is dropped and counted ({@link
 * #lost}). Without overflow buffers a full output drops at once (netmap's lb with {@code -B 0}).
 *
 * <p>The middlebox does not own the ports: close it, then them. Packets spanning several slots
 * ({@link Slot#NS_MOREFRAG}) are treated slot by slot.
 */
public final class Middlebox implements AutoCloseable {
    /** How the rings are spread over threads. */
    public enum Threads { ONE, PER_RING }

    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    /** While idle: spin this long before sleeping. */
    private static final WaitStrategy DEFAULT_WAIT = WaitStrategy.spinThenBlock(Duration.ofMillis(1));
    private static final long IDLE_SLEEP_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final List<Path> paths;
    private final List<Port> outputs;
    private final List<Worker> workers = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean stop;
    private volatile Throwable failure;
    private boolean closed;

    private record Path(Port in, int[] outs, BatchProcessor processor) {
    }

    /** A new middlebox, configured by the builder's calls and started by {@link Builder#start()}. */
    public static Builder builder() {
        return new Builder();
    }

    /** Configuration of a middlebox. */
    public static final class Builder {
        private final List<Port> ins = new ArrayList<>();
        private final List<List<Port>> outs = new ArrayList<>();
        private final List<BatchProcessor> procs = new ArrayList<>();
        private Threads threads = Threads.ONE;
        private int[] cpus = new int[0];
        private int batch = 512;
        private int overflow;
        private boolean forceCopy;
        private WaitStrategy wait = DEFAULT_WAIT;
        private String name = "middlebox";
        private Region overflowRegion;

        /** Packets received on {@code in} go through {@code processor} to {@code outputs} (indexed from 0). */
        public Builder input(Port in, List<Port> outputs, BatchProcessor processor) {
            if (outputs.isEmpty()) {
                throw new IllegalArgumentException("outputs of " + in.name() + ": none (expected: at least one)");
            }
            ins.add(in);
            outs.add(List.copyOf(outputs));
            procs.add(processor);
            return this;
        }

        public Builder threads(Threads t) {
            this.threads = t;
            return this;
        }

        /** Pins thread i to CPU {@code cpus[i % cpus.length]}; none: not pinned. */
        public Builder cpus(int... cpus) {
            this.cpus = cpus.clone();
            return this;
        }

        /** Most packets per batch (default 512). */
        public Builder batch(int batch) {
            if (batch < 1 || batch > 1 << 16) {
                throw new IllegalArgumentException("batch=" + batch + " (expected: 1..65536)");
            }
            this.batch = batch;
            return this;
        }

        /** Extra buffers where packets wait for a full output (default 0: drop at once). */
        public Builder overflow(int buffers) {
            if (buffers < 0) {
                throw new IllegalArgumentException("overflow=" + buffers + " (expected: >= 0)");
            }
            this.overflow = buffers;
            return this;
        }

        /**
         * Where the overflow buffers come from (default: the first input's region). Packets move into
         * and out of them by swap when their rings are in this region, by copy otherwise.
         */
        public Builder overflowRegion(Region r) {
            this.overflowRegion = r;
            return this;
        }

        /** Copy packets even between ports of one region. */
        public Builder forceCopy(boolean copy) {
            this.forceCopy = copy;
            return this;
        }

        /** How an idle thread waits (default: spin 1 ms, then sleep). */
        public Builder wait(WaitStrategy w) {
            this.wait = w;
            return this;
        }

        /** Prefix of the threads' names. */
        public Builder name(String n) {
            this.name = n;
            return this;
        }

        /** Starts the threads. */
        public Middlebox start() {
            if (ins.isEmpty()) {
                throw new IllegalArgumentException("no input (expected: at least one input(...))");
            }
            return new Middlebox(this, true);
        }

        /**
         * A middlebox without threads, driven by the caller's thread through {@link Middlebox#runOnce()}
         * (one thread, as {@link Threads#ONE}; {@code threads} and {@code cpus} are ignored).
         */
        public Middlebox build() {
            if (ins.isEmpty()) {
                throw new IllegalArgumentException("no input (expected: at least one input(...))");
            }
            threads = Threads.ONE;
            return new Middlebox(this, false);
        }
    }

    private Middlebox(Builder b, boolean threaded) {
        Map<Port, Integer> outIndex = new IdentityHashMap<>();
        outputs = new ArrayList<>();
        paths = new ArrayList<>();
        for (int p = 0; p < b.ins.size(); p++) {
            List<Port> o = b.outs.get(p);
            int[] idx = new int[o.size()];
            for (int k = 0; k < idx.length; k++) {
                Port port = o.get(k);
                if (port.txRings() == 0) {
                    throw new IllegalArgumentException("output " + port.name() + " has no TX ring (expected: a port that can send)");
                }
                idx[k] = outIndex.computeIfAbsent(port, x -> {
                    outputs.add(x);
                    return outputs.size() - 1;
                });
            }
            paths.add(new Path(b.ins.get(p), idx, b.procs.get(p)));
        }
        // which (input ring) each worker serves
        List<List<int[]>> plan = new ArrayList<>();
        if (b.threads == Threads.ONE) {
            List<int[]> all = new ArrayList<>();
            for (int p = 0; p < paths.size(); p++) {
                for (int r = 0; r < paths.get(p).in().rxRings(); r++) {
                    all.add(new int[] {p, r});
                }
            }
            plan.add(all);
        } else {
            Set<String> used = new HashSet<>();
            for (int p = 0; p < paths.size(); p++) {
                Path path = paths.get(p);
                for (int r = 0; r < path.in().rxRings(); r++) {
                    for (int o : path.outs()) {
                        Port out = outputs.get(o);
                        String key = System.identityHashCode(out) + "/" + r % out.txRings();
                        if (!used.add(key)) {
                            throw new IllegalArgumentException("threads=PER_RING: TX ring " + r % out.txRings() + " of "
                                    + out.name() + " would be written by two threads (expected: each TX ring fed by one "
                                    + "input ring; use Threads.ONE)");
                        }
                    }
                    plan.add(List.of(new int[] {p, r}));
                }
            }
        }
        Region poolRegion = b.overflowRegion != null ? b.overflowRegion : paths.get(0).in().region();
        int perWorker = plan.isEmpty() ? 0 : b.overflow / plan.size();
        int maxBatch = b.batch;
        try {
            for (int w = 0; w < plan.size(); w++) {
                workers.add(new Worker(w, plan.get(w), b, poolRegion, perWorker, maxBatch, b.threads == Threads.ONE));
            }
        } catch (RuntimeException e) {
            workers.forEach(Worker::freeBuffers);
            throw e;
        }
        for (int w = 0; threaded && w < workers.size(); w++) {
            Worker worker = workers.get(w);
            int cpu = b.cpus.length == 0 ? -1 : b.cpus[w % b.cpus.length];
            threads.add(Thread.ofPlatform().name(b.name + "-" + w).daemon().start(() -> worker.loop(cpu)));
        }
    }

    /**
     * One pass of a middlebox made by {@link Builder#build()}: drains the overflow queues, then takes
     * one batch from each input ring and moves it. Returns true if anything moved. Allocates nothing.
     */
    public boolean runOnce() {
        if (!threads.isEmpty()) {
            throw new IllegalStateException("runOnce() on a middlebox with threads (expected: one made by build())");
        }
        Worker w = workers.get(0);
        return w.round();
    }

    /** The inputs' processors see output indices local to their input; counters use these global ones. */
    public List<Port> outputs() {
        return List.copyOf(outputs);
    }

    /** Global output index of output {@code local} of input {@code input}. */
    public int outputIndex(int input, int local) {
        return paths.get(input).outs()[local];
    }

    /** Packets received on input {@code input}. */
    public long received(int input) {
        return sum(2 * input);
    }

    /** Packets the processor of input {@code input} dropped. */
    public long dropped(int input) {
        return sum(2 * input + 1);
    }

    /** Packets (and copies) handed to output {@code output} (global index, {@link #outputs()}). */
    public long sent(int output) {
        return sum(2 * paths.size() + 3 * output);
    }

    /** Packets for output {@code output} dropped because it was full and no overflow buffer was left. */
    public long lost(int output) {
        return sum(2 * paths.size() + 3 * output + 1);
    }

    /** Packets waiting in the overflow queue of output {@code output} now. */
    public long queued(int output) {
        return sum(2 * paths.size() + 3 * output + 2);
    }

    /** Overflow buffers free now. */
    public long overflowFree() {
        long s = 0;
        for (Worker w : workers) {
            s += (long) LONGS.getAcquire(w.counters, w.counters.length - 1);
        }
        return s;
    }

    /** What stopped a thread, or null while all run. */
    public Throwable failure() {
        return failure;
    }

    private long sum(int i) {
        long s = 0;
        for (Worker w : workers) {
            s += (long) LONGS.getAcquire(w.counters, i);
        }
        return s;
    }

    /** Stops the threads (waits for them) and returns the overflow buffers. Idempotent; the ports stay open. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        stop = true;
        for (Thread t : threads) {
            LockSupport.unpark(t);
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        workers.forEach(Worker::freeBuffers);
    }

    /** An output ring as one worker sees it, with its overflow queue. */
    private static final class OutRing {
        final int global;
        final Ring t;
        int j;
        int room;
        boolean touched;
        final int[] qBuf;
        final int[] qLen;
        int qHead;
        int qCount;
        /** Packets put on the ring since {@link Worker#begin}: added to the counters once, at {@link Worker#end}. */
        long sent;

        OutRing(int global, Ring t, int capacity) {
            this.global = global;
            this.t = t;
            this.qBuf = new int[Math.max(capacity, 1)];
            this.qLen = new int[Math.max(capacity, 1)];
        }
    }

    private record Task(int path, Ring rx, Batch batch, OutRing[] outs, BatchProcessor processor) {
    }

    private final class Worker {
        final Task[] tasks;
        final OutRing[] outRings;
        final long[] counters;
        final int nPaths;
        final boolean forceCopy;
        final Region pool;
        final MemorySegment poolMem;
        final int[] free;
        int nFree;
        final int batch;
        final boolean polls;
        final WaitStrategy wait;
        final List<Port> pollPorts = new ArrayList<>();

        Worker(int id, List<int[]> plan, Builder b, Region pool, int overflow, int batch, boolean polls) {
            this.nPaths = paths.size();
            this.counters = new long[2 * nPaths + 3 * outputs.size() + 1];
            this.forceCopy = b.forceCopy;
            this.pool = pool;
            this.poolMem = pool.memory();
            this.batch = batch;
            this.polls = polls;
            this.wait = b.wait;
            this.free = new int[overflow];
            Map<Integer, OutRing> byGlobal = new java.util.HashMap<>();
            List<OutRing> all = new ArrayList<>();
            tasks = new Task[plan.size()];
            for (int k = 0; k < plan.size(); k++) {
                int p = plan.get(k)[0];
                int r = plan.get(k)[1];
                Path path = paths.get(p);
                OutRing[] o = new OutRing[path.outs().length];
                for (int x = 0; x < o.length; x++) {
                    int g = path.outs()[x];
                    Port out = outputs.get(g);
                    int ring = r % out.txRings();
                    // in ONE-thread mode every input ring shares the output's ring 0..; one OutRing per TX ring
                    o[x] = byGlobal.computeIfAbsent(g * 65536 + ring, key -> {
                        OutRing or = new OutRing(g, out.txRing(ring), overflow);
                        all.add(or);
                        return or;
                    });
                }
                tasks[k] = new Task(p, path.in().rxRing(r), new Batch(p, o.length, batch, 4 * batch), o, path.processor());
                if (!pollPorts.contains(path.in())) {
                    pollPorts.add(path.in());
                }
            }
            outRings = all.toArray(OutRing[]::new);
            for (int i = 0; i < overflow; i++) {
                int buf = pool.allocBuf();
                if (buf == 0) {
                    nFree = i;
                    freeBuffers();
                    throw new IllegalArgumentException("overflow=" + b.overflow + ": region " + pool.name() + " has only "
                            + (i + pool.freeBufs()) + " free buffers (expected: a region with room for them; give the "
                            + "port that creates it more buffers, @conf:bufs= or extra-bufs=)");
                }
                free[nFree++] = buf;
            }
            publishFree();
        }

        void freeBuffers() {
            for (int i = 0; i < nFree; i++) {
                pool.freeBuf(free[i]);
            }
            nFree = 0;
            for (OutRing o : outRings == null ? new OutRing[0] : outRings) {
                for (; o.qCount > 0; o.qCount--) {
                    pool.freeBuf(o.qBuf[o.qHead]);
                    o.qHead = o.qHead + 1 == o.qBuf.length ? 0 : o.qHead + 1;
                }
            }
        }

        void loop(int cpu) {
            try {
                if (cpu >= 0) {
                    Affinity.pinCurrentThread(cpu);
                }
                if (polls) {
                    try (Poller poller = new Poller(wait)) {
                        for (Port p : pollPorts) {
                            poller.add(p.pollable(), Pollable.IN);
                        }
                        boolean moved = true;
                        while (!stop) {
                            boolean waiting = queuedAny();
                            if (!moved) { // after a round that moved packets, the next round's own syncs look again
                                poller.poll(waiting ? Poller.NOW : IDLE_SLEEP_NANOS);
                            }
                            moved = round();
                            if (!moved && waiting) {
                                Thread.onSpinWait();
                            }
                        }
                    }
                } else {
                    long idleSince = 0;
                    while (!stop) {
                        if (round()) {
                            idleSince = 0;
                        } else if (idleSince == 0) {
                            idleSince = System.nanoTime();
                        } else if (wait != WaitStrategy.busySpin() && System.nanoTime() - idleSince > 1_000_000) {
                            LockSupport.parkNanos(50_000);
                        } else {
                            Thread.onSpinWait();
                        }
                    }
                }
            } catch (Throwable t) {
                failure = t;
            }
        }

        boolean queuedAny() {
            for (OutRing o : outRings) {
                if (o.qCount > 0) {
                    return true;
                }
            }
            return false;
        }

        /** One pass over the overflow queues and every input ring; true if anything moved. */
        boolean round() {
            boolean moved = false;
            for (OutRing o : outRings) {
                if (o.qCount > 0) {
                    begin(o);
                    moved |= drain(o);
                    end(o);
                }
            }
            for (Task task : tasks) {
                Ring r = task.rx();
                r.sync(); // hands back the last batch, takes what arrived
                int n = Math.min(batch, r.space());
                if (n == 0) {
                    continue;
                }
                moved = true;
                int first = r.head();
                Batch b = task.batch();
                b.reset(r, first, n);
                task.processor().process(b);
                apply(task, r, b, n);
                r.advanceTo(r.slotAfter(first, n));
                counters[2 * task.path()] += n;
            }
            if (moved) {
                for (int i = 0; i < counters.length - 1; i++) {
                    LONGS.setRelease(counters, i, counters[i]); // ordered store -> readers see whole batches
                }
                for (OutRing o : outRings) {
                    LONGS.setRelease(counters, 2 * nPaths + 3 * o.global + 2, (long) o.qCount);
                }
                publishFree();
            }
            return moved;
        }

        void publishFree() {
            LONGS.setRelease(counters, counters.length - 1, (long) nFree);
        }

        void apply(Task task, Ring r, Batch b, int n) {
            OutRing[] outs = task.outs();
            int c = 0;
            int copies = b.copies;
            int s = r.head();
            boolean sameRegionAsPool = r.region() == pool;
            int dropped = 0;
            for (int k = 0; k < n; k++) {
                while (c < copies && b.copyPkt[c] == k) {
                    emit(outs[b.copyOut[c]], r, s, true, sameRegionAsPool);
                    c++;
                }
                int d = b.decision[k];
                if (d >= 0) {
                    emit(outs[d], r, s, false, sameRegionAsPool);
                } else {
                    dropped++;
                }
                s = r.nextSlot(s);
            }
            counters[2 * task.path() + 1] += dropped;
            for (OutRing o : outs) {
                end(o);
            }
        }

        void begin(OutRing o) {
            if (!o.touched) {
                o.touched = true;
                o.j = o.t.head();
                o.room = o.t.space();
            }
        }

        /** Publishes what was put on the ring and txsyncs it. */
        void end(OutRing o) {
            if (o.touched) {
                o.touched = false;
                o.t.advanceTo(o.j);
                o.t.sync();
                counters[2 * nPaths + 3 * o.global] += o.sent;
                o.sent = 0;
            }
        }

        boolean refill(OutRing o) {
            o.t.advanceTo(o.j);
            o.t.sync();
            o.j = o.t.head();
            o.room = o.t.space();
            return o.room > 0;
        }

        /** Moves queued packets to the ring while it has room; true if any moved. */
        boolean drain(OutRing o) {
            boolean moved = false;
            Ring t = o.t;
            boolean swap = !forceCopy && t.region() == pool;
            while (o.qCount > 0 && (o.room > 0 || refill(o))) {
                int buf = o.qBuf[o.qHead];
                int len = o.qLen[o.qHead];
                int j = o.j;
                if (swap) {
                    int old = t.bufIdx(j);
                    t.setBufIdx(j, buf);
                    t.setSlot(j, len, Slot.NS_BUF_CHANGED);
                    free[nFree++] = old;
                } else {
                    MemorySegment.copy(poolMem, pool.bufOffset(buf), t.memory(), t.bufOffset(j), len);
                    t.setSlot(j, len, t.flags(j) & Slot.NS_BUF_CHANGED);
                    free[nFree++] = buf;
                }
                o.qHead = o.qHead + 1 == o.qBuf.length ? 0 : o.qHead + 1;
                o.qCount--;
                o.j = t.nextSlot(j);
                o.room--;
                o.sent++;
                moved = true;
            }
            return moved;
        }

        /**
         * Moves the packet of {@code len} bytes under RX slot {@code s} to TX slot {@code j} by buffer
         * swap: the TX slot gets the packet's buffer, its length and {@link Slot#NS_BUF_CHANGED} as its
         * only flag; the RX slot gets the TX slot's free buffer and {@code NS_BUF_CHANGED} added. Netmap's
         * slot keeps buffer index, length and flags in its first 8 bytes ({@link Slots}): one read
         * and one write of each slot (what {@link Ring#swap} and {@link Ring#setSlot} do in ten accesses).
         */
        void swapForward(Ring r, int s, Ring t, int j, int len) {
            if (len > t.bufSize()) {
                t.setLen(j, len); // throws the ring's error for a length its buffers cannot hold
            }
            MemorySegment m = r.memory();
            long rs = Slots.at(r, s);
            long ts = Slots.at(t, j);
            long a = Slots.word(m, rs);
            long b = Slots.word(m, ts);
            Slots.setWord(m, rs, a & ~Slots.BUF_IDX | b & Slots.BUF_IDX | Slots.BUF_CHANGED);
            Slots.setWord(m, ts, Slots.make(a, len, Slots.BUF_CHANGED));
        }

        void emit(OutRing o, Ring r, int s, boolean copy, boolean rxInPool) {
            begin(o);
            if (o.qCount > 0) {
                drain(o);
            }
            int len = r.len(s);
            Ring t = o.t;
            if (o.qCount == 0 && (o.room > 0 || refill(o))) {
                int j = o.j;
                if (!copy && !forceCopy && r.region() == t.region()) {
                    swapForward(r, s, t, j, len);
                } else {
                    int l = Math.min(len, t.bufSize());
                    MemorySegment.copy(r.memory(), r.bufOffset(s), t.memory(), t.bufOffset(j), l);
                    t.setSlot(j, l, t.flags(j) & Slot.NS_BUF_CHANGED);
                }
                o.j = t.nextSlot(j);
                o.room--;
                o.sent++;
                return;
            }
            if (nFree == 0 || o.qCount == o.qBuf.length) {
                counters[2 * nPaths + 3 * o.global + 1]++;
                return;
            }
            int buf = free[--nFree];
            int l = Math.min(len, pool.bufSize());
            if (!copy && !forceCopy && rxInPool) {
                int old = r.bufIdx(s);
                r.setBufIdx(s, buf);
                r.setFlags(s, r.flags(s) | Slot.NS_BUF_CHANGED);
                buf = old;
            } else {
                MemorySegment.copy(r.memory(), r.bufOffset(s), poolMem, pool.bufOffset(buf), l);
            }
            int tailPos = o.qHead + o.qCount;
            if (tailPos >= o.qBuf.length) {
                tailPos -= o.qBuf.length;
            }
            o.qBuf[tailPos] = buf;
            o.qLen[tailPos] = l;
            o.qCount++;
        }
    }
}
