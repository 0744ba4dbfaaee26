package io.jnetmap.bench.core;

import io.jnetmap.bench.Result;
import io.jnetmap.core.LoopbackPort;
import io.jnetmap.core.Ring;
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

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * Cost per packet of the core ring API, one thread: slot fields, packet bytes, and a whole
 * fill/txsync/rxsync/release cycle through the loopback backend. The peer is a heap ByteBuffer
 * receiving the same 60 bytes.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class SlotBench {
    static final int BATCH = 256;
    static final int LEN = 60;

    LoopbackPort port;
    Ring tx;
    Ring rx;
    MemorySegment template;
    Arena arena;
    ByteBuffer peer;
    byte[] peerTemplate;

    @Setup(Level.Trial)
    public void setup() {
        port = LoopbackPort.open("netmap:bench", 1024, 0);
        tx = port.txRing(0);
        rx = port.rxRing(0);
        arena = Arena.ofShared();
        template = arena.allocate(LEN, 8);
        for (int i = 0; i < LEN; i++) {
            template.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) i);
        }
        peer = ByteBuffer.allocate(2048);
        peerTemplate = new byte[LEN];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        port.close();
        arena.close();
    }

    /** Write len/flags and read bufIdx/len of a slot, over a batch. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    @Result(name = "core.slot.rw", unit = "ns")
    public long slotReadWrite() {
        Ring t = tx;
        int i = t.head();
        long sum = 0;
        for (int k = 0; k < BATCH; k++) {
            t.setSlot(i, LEN, 0);
            sum += t.bufIdx(i) + t.len(i);
            i = t.nextSlot(i);
        }
        return sum;
    }

    /** Copy a 60-byte packet into the buffer under a slot. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    @Result(name = "core.buf.write60", unit = "ns")
    public void bufferWrite() {
        Ring t = tx;
        MemorySegment m = t.memory();
        int i = t.head();
        for (int k = 0; k < BATCH; k++) {
            MemorySegment.copy(template, 0, m, t.bufOffset(i), LEN);
            i = t.nextSlot(i);
        }
    }

    /** Read a 60-byte packet (as 8-byte words) from the buffer under a slot. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    @Result(name = "core.buf.read60", unit = "ns")
    public long bufferRead() {
        Ring t = tx;
        MemorySegment m = t.memory();
        int i = t.head();
        long sum = 0;
        for (int k = 0; k < BATCH; k++) {
            long off = t.bufOffset(i);
            for (int b = 0; b < 56; b += 8) {
                sum += m.get(JAVA_LONG_UNALIGNED, off + b);
            }
            i = t.nextSlot(i);
        }
        return sum;
    }

    /** Peer: the same 60 bytes into a heap ByteBuffer. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    @Result(name = "peer.bytebuffer.write60", unit = "ns")
    public void peerByteBufferWrite() {
        ByteBuffer b = peer;
        for (int k = 0; k < BATCH; k++) {
            b.clear();
            b.position((k & 15) * 64);
            b.put(peerTemplate);
        }
    }

    /**
     * A whole loopback cycle per packet: fill a batch of TX slots (60 bytes each), txsync, rxsync,
     * read each packet's first word, release. Also the allocation figure (must be 0 B/op).
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    @Result(name = "core.loopback.cycle", unit = "ns")
    @Result(name = "core.alloc", unit = "B/op", metric = "gc.alloc.rate.norm")
    public long loopbackCycle() {
        Ring t = tx;
        Ring r = rx;
        MemorySegment m = t.memory();
        int i = t.head();
        int n = Math.min(BATCH, t.space());
        for (int k = 0; k < n; k++) {
            MemorySegment.copy(template, 0, m, t.bufOffset(i), LEN);
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
            sum += m.get(JAVA_LONG_UNALIGNED, r.bufOffset(j));
            j = r.nextSlot(j);
        }
        r.advanceTo(j);
        r.sync();
        return sum;
    }
}
