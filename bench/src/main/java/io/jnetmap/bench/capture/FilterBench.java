package io.jnetmap.bench.capture;

import io.jnetmap.bench.Result;
import io.jnetmap.capture.Bpf;
import io.jnetmap.capture.FilterCompiler;
import io.jnetmap.capture.PacketFilter;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;

/**
 * ns per packet of a compiled pcap-filter expression, run by the JVM bytecode compiler and by the reference
 * interpreter, over a batch of 64 frames (TCP SYNs and ACKs to ports 80 and 443 from 40 hosts, UDP, ARP) in
 * off-heap memory, as a capture loop sees them.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class FilterBench {
    static final int BATCH = 64;
    static final int FRAME = 128;
    static final String SYN80 = "tcp dst port 80 and tcp[13] & 2 != 0";
    static final String HOSTS20;

    static {
        StringBuilder b = new StringBuilder();
        for (int i = 1; i <= 20; i++) b.append(i > 1 ? " or " : "").append("host 10.1.0.").append(i);
        HOSTS20 = b.toString();
    }

    MemorySegment frames;
    int[] lens = new int[BATCH];
    PacketFilter synBytecode, synInterp, hostsBytecode, hostsInterp;

    @Setup
    public void setup() {
        frames = Arena.ofAuto().allocate((long) BATCH * FRAME, 64);
        for (int i = 0; i < BATCH; i++) {
            long o = (long) i * FRAME;
            int kind = i % 8;
            put16(o + 12, kind == 7 ? 0x0806 : 0x0800);
            frames.set(ValueLayout.JAVA_BYTE, o + 14, (byte) 0x45);
            put16(o + 16, 40);
            frames.set(ValueLayout.JAVA_BYTE, o + 23, (byte) (kind == 6 ? 17 : 6));
            put32(o + 26, 0x0a010000 | (i % 40));
            put32(o + 30, 0x0a020000 | i);
            put16(o + 34, 1024 + i);
            put16(o + 36, kind < 3 ? 80 : 443);
            frames.set(ValueLayout.JAVA_BYTE, o + 47, (byte) (kind % 2 == 0 ? 0x02 : 0x10));
            lens[i] = 60 + (i % 4) * 16;
        }
        Bpf syn = FilterCompiler.compile(SYN80), hosts = FilterCompiler.compile(HOSTS20);
        synBytecode = PacketFilter.bytecode(syn);
        synInterp = PacketFilter.interpreter(syn);
        hostsBytecode = PacketFilter.bytecode(hosts);
        hostsInterp = PacketFilter.interpreter(hosts);
    }

    private void put16(long at, int v) {
        frames.set(ValueLayout.JAVA_BYTE, at, (byte) (v >> 8));
        frames.set(ValueLayout.JAVA_BYTE, at + 1, (byte) v);
    }

    private void put32(long at, int v) {
        put16(at, v >>> 16);
        put16(at + 2, v);
    }

    private int run(PacketFilter f) {
        int n = 0;
        for (int i = 0; i < BATCH; i++) {
            n += f.matches(frames, (long) i * FRAME, lens[i], lens[i]) ? 1 : 0;
        }
        return n;
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    @Result(name = "capture.filter.bytecode.syn80", unit = "ns")
    @Result(name = "capture.filter.bytecode.syn80.alloc", unit = "B/op", metric = "gc.alloc.rate.norm")
    public int bytecodeSyn80() {
        return run(synBytecode);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    @Result(name = "capture.filter.interp.syn80", unit = "ns")
    public int interpSyn80() {
        return run(synInterp);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    @Result(name = "capture.filter.bytecode.hosts20", unit = "ns")
    @Result(name = "capture.filter.bytecode.hosts20.alloc", unit = "B/op", metric = "gc.alloc.rate.norm")
    public int bytecodeHosts20() {
        return run(hostsBytecode);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    @Result(name = "capture.filter.interp.hosts20", unit = "ns")
    public int interpHosts20() {
        return run(hostsInterp);
    }
}
