package io.jnetmap.test;

import io.jnetmap.capture.Bpf;
import io.jnetmap.capture.FilterCompiler;
import io.jnetmap.capture.PacketFilter;
import io.jnetmap.core.Port;
import io.jnetmap.core.nic.Frames;
import io.jnetmap.core.Ring;
import io.jnetmap.core.nic.NetLab;
import io.jnetmap.core.nic.NicPort;
import io.jnetmap.examples.Capture;
import io.jnetmap.sys.NetNamespace;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The filter in the kernel: an AF_PACKET NIC port with the compiled program attached (SO_ATTACH_FILTER,
 * libpcap's sequence) receives exactly the frames the interpreter selects from what a veth peer sent; and
 * {@code capture -i netmap:IF} is passive: the namespace keeps pinging over the interface while it runs.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class CaptureKernelFilterTest {
    static final String[] EXPRESSIONS = {"ip", "ip6", "arp", "tcp", "udp", "icmp", "icmp6", "port 80", "tcp port 80 or 443",
            "host 10.0.0.1", "src host 10.0.0.2", "net 192.168.1.0/24", "udp port 53", "not tcp", "ether broadcast",
            "ether multicast", "tcp[13] & 2 != 0", "tcp dst port 80 and tcp[13] & 2 != 0", "greater 100", "less 80",
            "ip[6:2] & 0x1fff != 0", "ip6 proto 6", "portrange 10-30", "ether src 2:0:0:0:0:1", "rarp", "mpls", "ip multicast",
            "host 10.0.0.1 or 10.0.0.2 or 1.1.1.1", "icmp[icmptype] = icmp-echo", "ether proto 100"};

    /** Frames of the equivalence corpus without a VLAN tag (AF_PACKET hands tags over as metadata). */
    static List<byte[]> frames() {
        List<byte[]> out = new ArrayList<>();
        for (byte[] f : io.jnetmap.capture.TestCorpus.frames()) {
            if (f.length < 60) continue;
            int type = (f[12] & 0xff) << 8 | f[13] & 0xff;
            if (f.length >= 60 && type != 0x8100 && type != 0x88a8 && type != 0x9100) out.add(f);
        }
        return out;
    }

    @Test
    void theKernelRunsTheFilterAsTheInterpreterDoes() throws Exception {
        List<byte[]> frames = frames();
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < frames.size(); i++) index.putIfAbsent(HexFormat.of().formatHex(frames.get(i)), i);
        List<String> failures = new ArrayList<>();
        try (NetLab lab = new NetLab(); Arena arena = Arena.ofShared()) {
            NetLab.Veth v = lab.vethPair();
            try (Port tx = NetLab.open(v.nsA(), "netmap:" + v.a() + "@backend=packet")) {
                List<String> exprs = new ArrayList<>(List.of(EXPRESSIONS));
                StringBuilder big = new StringBuilder("not (tcp port 1"); // > 300 instructions, long jumps through ja
                for (int p = 2; p <= 70; p++) big.append(" or tcp port ").append(p * 7);
                exprs.add(big.append(") and not udp port 53").toString());
                for (String e : exprs) {
                    Bpf prog = FilterCompiler.compile(e);
                    PacketFilter ref = PacketFilter.interpreter(prog);
                    TreeSet<Integer> want = new TreeSet<>();
                    for (int i = 0; i < frames.size(); i++) {
                        byte[] f = frames.get(i);
                        if (ref.matches(MemorySegment.ofArray(f), 0, f.length, f.length) && index.get(HexFormat.of().formatHex(f)) == i) want.add(i);
                    }
                    TreeSet<Integer> got = new TreeSet<>();
                    try (Port rx = NetLab.open(v.nsB(), "netmap:" + v.b() + "@backend=packet")) {
                        ((NicPort) rx).setSocketFilter(prog.toSockFilter(arena), prog.length());
                        Frames.sendAll(tx, frames);
                        receive(rx, index, got);
                    }
                    if (!want.equals(got)) failures.add(e + ": interpreter " + want + ", kernel " + got);
                }
            }
        }
        assertEquals(List.of(), failures);
    }

    private static void receive(Port rx, Map<String, Integer> index, TreeSet<Integer> got) throws InterruptedException {
        Ring r = rx.rxRing(0);
        long quietSince = System.nanoTime();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() - quietSince < TimeUnit.MILLISECONDS.toNanos(400) && System.nanoTime() < deadline) {
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
            if (n > 0) quietSince = System.nanoTime(); else Thread.sleep(10);
        }
    }

    /**
     * Addresses NET.1 (side a) and NET.2 (side b) on {@code v}, {@code capture -i netmap:B -c 4 EXPR} in b's
     * namespace and two pings from a while it runs (answered: the capture is passive); returns the capture's
     * {stdout, stderr} once it exited 0.
     */
    @SuppressWarnings("try")
    static String[] captureFourWhilePinging(NetLab.Veth v, String net, String expr) throws Exception {
        NetLab.inNs(v.nsA(), "ip", "addr", "add", net + ".1/24", "dev", v.a());
        NetLab.inNs(v.nsB(), "ip", "addr", "add", net + ".2/24", "dev", v.b());
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        CompletableFuture<Integer> cap = CompletableFuture.supplyAsync(() -> {
            try (NetNamespace ignored = NetNamespace.enter(v.nsB())) {
                return Capture.run(new String[] {"-i", "netmap:" + v.b(), "-c", "4", expr},
                        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
            }
        }, r -> new Thread(r, "capture").start());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!err.toString(StandardCharsets.UTF_8).contains("listening on")) {
            assertTrue(System.nanoTime() < deadline, "capture started: " + err);
            Thread.sleep(20);
        }
        String ping = NetLab.inNs(v.nsA(), "ping", "-c", "2", "-i", "0.2", "-W", "2", net + ".2");
        assertTrue(ping.contains("2 received"), ping);
        assertEquals(0, cap.get(30, TimeUnit.SECONDS), err.toString(StandardCharsets.UTF_8));
        String e = err.toString(StandardCharsets.UTF_8), o = out.toString(StandardCharsets.UTF_8);
        return new String[] {o, e};
    }

    @Test
    @SuppressWarnings("try")
    void captureOnANicIsPassiveAndFiltersInTheKernel(@TempDir Path dir) throws Exception {
        try (NetLab lab = new NetLab()) {
            NetLab.Veth v = lab.vethPair();
            // the host stack keeps its traffic: ping answers while capture runs
            String[] oe = captureFourWhilePinging(v, "10.7.0", "icmp");
            String o = oe[0], e = oe[1];
            assertTrue(e.contains("filter in the kernel (SO_ATTACH_FILTER)"), e);
            assertTrue(e.contains("4 packets captured"), e);
            List<String> lines = o.lines().toList();
            // passive as tcpdump: the replies its own host sends are captured too
            assertEquals(4, lines.size(), o);
            for (int i = 0; i < 4; i += 2) {
                assertTrue(lines.get(i).contains("IP 10.7.0.1 > 10.7.0.2: ICMP echo request"), o);
                assertTrue(lines.get(i + 1).contains("IP 10.7.0.2 > 10.7.0.1: ICMP echo reply"), o);
            }
            assertTrue(lines.stream().noneMatch(l -> l.contains("ARP")), "ARP filtered out in the kernel: " + o);
        }
    }
}
