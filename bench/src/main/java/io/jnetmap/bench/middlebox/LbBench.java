package io.jnetmap.bench.middlebox;

import io.jnetmap.bench.Result;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.middlebox.LoadBalancer;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;
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
 * lb on one core: a pipe source ({@code P}4}, a pipe of the pipes' own parent, so packets move by
 * buffer swap) spread over 4 pipes {@code P}0..3}. One thread per invocation writes 256 60-byte
 * IPv4/UDP frames of 4096 flows into the source, runs one lb pass ({@link LoadBalancer#runOnce()}: flow
 * hash, swap into the pipe) and drains the 4 consumers: netmap lb's figure is per core for the
 * balancer; here the source and the consumers share the core, so the figure is a floor.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Thread)
public class LbBench {
    static final int BATCH = 256;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;
    private final long[] frame = new long[8];
    private LoadBalancer lb;
    private Port source;
    private Port[] consumers;
    private int flow;

    @Setup(Level.Trial)
    public void open() {
        String p = "lbb" + ProcessHandle.current().pid() + "x" + (System.nanoTime() & 0xffffff);
        lb = LoadBalancer.open(p + "}4", List.of(new LoadBalancer.Group(p, 4)), 0, BATCH);
        source = Netmap.open(p + "{4");
        consumers = new Port[4];
        for (int k = 0; k < 4; k++) {
            consumers[k] = Netmap.open(p + "}" + k);
        }
        udpTemplate(frame);
    }

    /**
     * Writes the 64-byte frame the lb benchmarks send into {@code frame}: IPv4 UDP 10.100.0.1, ports 1234 → 4096;
     * the benchmarks vary the source address per packet (4096 flows).
     */
    static void udpTemplate(long[] frame) {
        MemorySegment f = MemorySegment.ofArray(frame);
        f.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), 12, (short) 0x0800);
        f.set(ValueLayout.JAVA_BYTE, 14, (byte) 0x45);
        f.set(ValueLayout.JAVA_BYTE, 23, (byte) 17);
        f.set(U32, 30, 0x0a640001);
        f.set(U32, 34, 0x04d21000);
    }

    @TearDown(Level.Trial)
    public void close() {
        for (Port c : consumers) {
            c.close();
        }
        source.close();
        lb.close();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    @Result(name = "lb.4pipes.60B", unit = "Mpps", scale = 1e-6)
    @Result(name = "lb.alloc", metric = "gc.alloc.rate.norm", unit = "B/op")
    public int spread() {
        Ring t = source.txRing(0);
        t.sync();
        int n = Math.min(BATCH, t.space());
        int j = t.head();
        MemorySegment m = t.memory();
        for (int k = 0; k < n; k++) {
            long off = t.bufOffset(j);
            for (int w = 0; w < 7; w++) {
                m.set(LONG, off + 8L * w, frame[w]);
            }
            m.set(U32, off + 26, 0x0a000000 | (flow++ & 4095)); // 4096 flows
            t.setSlot(j, 60, 0);
            j = t.nextSlot(j);
        }
        t.advanceTo(j);
        t.sync();
        lb.runOnce();
        int got = 0;
        for (Port c : consumers) {
            Ring r = c.rxRing(0);
            r.sync();
            got += r.space();
            r.advanceTo(r.tail());
            r.sync();
        }
        return got;
    }
}
