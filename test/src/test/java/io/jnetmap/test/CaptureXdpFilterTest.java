package io.jnetmap.test;

import io.jnetmap.capture.Bpf;
import io.jnetmap.capture.FilterCompiler;
import io.jnetmap.capture.PacketFilter;
import io.jnetmap.core.Port;
import io.jnetmap.core.nic.Frames;
import io.jnetmap.core.Ring;
import io.jnetmap.core.nic.NetLab;
import io.jnetmap.core.nic.NicPort;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The filter in XDP: an AF_XDP port with the classic program translated to eBPF in front of its redirect
 * receives exactly the frames the interpreter selects from what a veth peer sent, for the expressions the
 * AF_PACKET kernel-filter test uses (frames it rejects are passed to the host stack); a program the
 * translation refuses (an ancillary load) leaves the port unfiltered with the reason, for the JVM to filter.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class CaptureXdpFilterTest {
    @Test
    void xdpRunsTheFilterAsTheInterpreterDoes() throws Exception {
        List<byte[]> frames = CaptureKernelFilterTest.frames();
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < frames.size(); i++) index.putIfAbsent(HexFormat.of().formatHex(frames.get(i)), i);
        List<String> failures = new ArrayList<>();
        int selective = 0;
        try (NetLab lab = new NetLab(); Arena arena = Arena.ofShared()) {
            NetLab.Veth v = lab.vethPair();
            List<String> exprs = new ArrayList<>(List.of(CaptureKernelFilterTest.EXPRESSIONS));
            StringBuilder big = new StringBuilder("not (tcp port 1");
            for (int p = 2; p <= 70; p++) big.append(" or tcp port ").append(p * 7);
            exprs.add(big.append(") and not udp port 53").toString());
            exprs.add("tcp[tcp[12] >> 4 : 1] = 0 or ip[ip[0] & 0xf] > 3"); // indexed loads (X + k)
            exprs.add("len / 3 > 20 and len % 7 != 1");                   // ALU with the frame length
            try (Port tx = NetLab.open(v.nsA(), "netmap:" + v.a() + "@backend=packet");
                 Port rx = NetLab.open(v.nsB(), "netmap:" + v.b() + "@backend=xdp")) {
                assertTrue(rx.backend().contains("xdp"), rx.backend());
                for (String e : exprs) {
                    Bpf prog = FilterCompiler.compile(e);
                    PacketFilter ref = PacketFilter.interpreter(prog);
                    TreeSet<Integer> want = new TreeSet<>();
                    for (int i = 0; i < frames.size(); i++) {
                        byte[] f = frames.get(i);
                        if (ref.matches(MemorySegment.ofArray(f), 0, f.length, f.length) && index.get(HexFormat.of().formatHex(f)) == i) want.add(i);
                    }
                    ((NicPort) rx).setXdpFilter(prog.toSockFilter(arena), prog.length());
                    TreeSet<Integer> got = new TreeSet<>();
                    Frames.sendAll(tx, frames);
                    receive(rx, index, got);
                    if (!want.equals(got)) failures.add(e + ": interpreter " + want + ", xdp " + got);
                    if (!want.isEmpty() && want.size() < frames.size()) selective++;
                }
                // classic BPF the translation refuses: ld [SKF_AD_OFF + SKF_AD_PROTOCOL]; ret a
                MemorySegment anc = arena.allocate(16, 8);
                anc.set(ValueLayout.JAVA_SHORT, 0, (short) 0x28);
                anc.set(ValueLayout.JAVA_INT, 4, 0xfffff000);
                anc.set(ValueLayout.JAVA_SHORT, 8, (short) 0x16);
                UnsupportedOperationException refused = org.junit.jupiter.api.Assertions.assertThrows(UnsupportedOperationException.class,
                        () -> ((NicPort) rx).setXdpFilter(anc, 2));
                assertTrue(refused.getMessage().contains("ancillary"), refused.getMessage());
            }
        }
        assertEquals(List.of(), failures);
        assertTrue(selective >= 20, selective + " expressions select some but not all frames (expected: most)");
    }

    private static void receive(Port rx, Map<String, Integer> index, TreeSet<Integer> got) throws InterruptedException {
        long quietSince = System.nanoTime();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() - quietSince < TimeUnit.MILLISECONDS.toNanos(400) && System.nanoTime() < deadline) {
            int total = 0;
            for (int q = 0; q < rx.rxRings(); q++) {
                Ring r = rx.rxRing(q);
                r.sync();
                int n = r.space();
                int h = r.head();
                for (int i = 0; i < n; i++) {
                    byte[] b = r.memory().asSlice(r.bufOffset(h), r.len(h)).toArray(ValueLayout.JAVA_BYTE);
                    Integer id = index.get(HexFormat.of().formatHex(b));
                    got.add(id == null ? -1 : id);
                    h = r.nextSlot(h);
                }
                r.advanceTo(h);
                total += n;
            }
            if (total > 0) quietSince = System.nanoTime(); else Thread.sleep(10);
        }
    }
}
