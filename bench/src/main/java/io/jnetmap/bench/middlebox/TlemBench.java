package io.jnetmap.bench.middlebox;

import io.jnetmap.bench.Result;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.middlebox.LinkEmulator;
import io.jnetmap.middlebox.LinkSpec;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * tlem's per-packet work on one core: one thread per invocation writes 256 60-byte frames into a pipe,
 * runs one stamper pass (into the delay line, exit times) and one releaser pass (every due packet out
 * in one TX sync) of a link without delay or limit ({@link LinkEmulator#open}, no threads), and drains
 * the receiving pipe. The threaded figure of {@link MiddleboxSuite} adds what the threads' hand-offs
 * cost where CPUs are fewer than busy threads; this one is what a direction's two threads cost together.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Thread)
public class TlemBench {
    static final int BATCH = 256;
    private Port src;
    private Port a;
    private Port b;
    private Port dst;
    private LinkEmulator em;

    @Setup(Level.Trial)
    public void open() {
        String p = "tlm" + ProcessHandle.current().pid() + "x" + (System.nanoTime() & 0xffffff);
        src = Netmap.open(p + "{0@conf:pipes=2");
        a = Netmap.open(p + "}0");
        b = Netmap.open(p + "}1");
        dst = Netmap.open(p + "{1");
        em = LinkEmulator.open(a, b, LinkSpec.ideal(), LinkSpec.ideal(), 16L << 20);
    }

    @TearDown(Level.Trial)
    public void close() {
        em.close();
        dst.close();
        b.close();
        a.close();
        src.close();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    @Result(name = "tlem.1core.60B", unit = "Mpps", scale = 1e-6)
    @Result(name = "tlem.1core.alloc", metric = "gc.alloc.rate.norm", unit = "B/op")
    public int oneDirection() {
        Ring t = src.txRing(0);
        t.sync();
        int n = Math.min(BATCH, t.space());
        int j = t.head();
        for (int k = 0; k < n; k++) {
            t.setSlot(j, 60, 0);
            j = t.nextSlot(j);
        }
        t.advanceTo(j);
        t.sync();
        em.stampOnce(0);
        em.releaseOnce(0);
        Ring r = dst.rxRing(0);
        r.sync();
        int got = r.space();
        r.advanceTo(r.tail());
        r.sync();
        return got;
    }
}
