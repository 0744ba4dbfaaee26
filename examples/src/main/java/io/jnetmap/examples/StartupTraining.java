package io.jnetmap.examples;

import io.jnetmap.capture.PacketWriter;

import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The training run of the tools' ahead-of-time cache (JDK 25, JEP 483/514): {@code bin/jnetmap} runs this once per
 * build with {@code -XX:AOTCacheOutput=}, and every later start maps the classes it loaded, already linked (without
 * its method profiles: see bin/lib/common.sh). It does what a user of the file tools does: {@code capture -r} through a filter into
 * pcap and pcapng, to {@code /dev/null} and to a file, printed as lines, {@code capture -d}, on a generated trace.
 */
public final class StartupTraining {
    private StartupTraining() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("jnetmap-aot");
        PrintStream nowhere = new PrintStream(OutputStream.nullOutputStream());
        try {
            Path trace = dir.resolve("trace.pcap");
            write(trace, 200_000);
            String in = trace.toString(), out = dir.resolve("out").toString();
            int failures = 0;
            for (int round = 0; round < 3; round++) {
                failures += Capture.run(new String[] {"-r", in, "-w", "/dev/null", "udp", "port", "9"}, nowhere, nowhere);
                failures += Capture.run(new String[] {"-r", in, "-w", "/dev/null", "tcp dst port 80 and tcp[13] & 2 != 0"}, nowhere, nowhere);
                failures += Capture.run(new String[] {"-r", in, "-w", "/dev/null"}, nowhere, nowhere);
                failures += Capture.run(new String[] {"-r", in, "-F", "pcapng", "-w", out, "host 10.0.0.1 or net 10.1.0.0/16"}, nowhere, nowhere);
                failures += Capture.run(new String[] {"-r", out, "-w", out + ".pcap", "-F", "pcap-us", "ip6 or arp or icmp"}, nowhere, nowhere);
                failures += Capture.run(new String[] {"-r", in, "-c", "2000", "-n", "not port 22"}, nowhere, nowhere);
                failures += Capture.run(new String[] {"-d", "vlan and udp portrange 1000-2000"}, nowhere, nowhere);
            }
            if (failures != 0) throw new IllegalStateException("a training run failed");
            try {
                live(out + ".live");
            } catch (Exception | LinkageError e) { // the file path above is what the cache is for: go on without this
                System.err.println("training: live capture on a pipe skipped: " + e);
            }
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) Files.deleteIfExists(p);
            }
            Files.deleteIfExists(dir);
        }
    }

    /** {@code capture -i PIPE -w FILE -c N} while this thread sends N frames into the pipe's other end: the live loop. */
    private static void live(String file) throws Exception {
        int n = 200_000;
        String parent = "aot" + ProcessHandle.current().pid();
        PrintStream nowhere = new PrintStream(OutputStream.nullOutputStream());
        try (io.jnetmap.core.Port tx = io.jnetmap.core.Netmap.open(parent + "{1")) {
            java.util.concurrent.CompletableFuture<Integer> cap = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> Capture.run(new String[] {"-i", parent + "}1", "-c", "" + n, "-w", file, "udp or tcp"}, nowhere, nowhere),
                    r -> Thread.ofPlatform().name("training-capture").start(r));
            Thread.sleep(200); // the capturer opens its end
            io.jnetmap.core.Ring t = tx.txRing(0);
            byte[] f = new byte[60];
            f[12] = 8;
            f[14] = 0x45;
            f[23] = 17;
            MemorySegment frame = MemorySegment.ofArray(f);
            long deadline = System.nanoTime() + 20_000_000_000L;
            for (int sent = 0; sent < n && !cap.isDone() && System.nanoTime() < deadline; ) {
                t.sync();
                int h = t.head();
                for (int k = t.space(); k > 0 && sent < n; k--, sent++) {
                    MemorySegment.copy(frame, 0, t.memory(), t.bufOffset(h), 60);
                    t.setSlot(h, 60, 0);
                    h = t.nextSlot(h);
                }
                t.advanceTo(h);
                t.sync();
                Thread.onSpinWait();
            }
            cap.get(20, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    /** {@code n} frames: TCP to 80 and 443 (SYNs among them), UDP to 9 and 53, ICMP, ARP, IPv6, a VLAN tag. */
    private static void write(Path file, int n) throws Exception {
        byte[] f = new byte[1514];
        MemorySegment s = MemorySegment.ofArray(f);
        try (PacketWriter w = PacketWriter.create(file, PacketWriter.Format.PCAP, 262144, List.of("training"))) {
            for (int i = 0; i < n; i++) {
                java.util.Arrays.fill(f, 0, 80, (byte) 0);
                f[0] = 2;
                f[6] = 2;
                f[11] = (byte) i;
                int kind = i % 8, o = 12;
                if (kind == 7) {
                    f[12] = (byte) 0x81;
                    f[15] = 10;
                    o = 16;
                }
                if (kind == 6) {
                    f[o] = 8;
                    f[o + 1] = 6;
                    w.write(0, s, 0, 60, 60, 1_700_000_000_000_000_000L + i * 1000L);
                    continue;
                }
                int len;
                if (kind == 5) {
                    f[o] = (byte) 0x86;
                    f[o + 1] = (byte) 0xdd;
                    f[o + 2] = 0x60;
                    f[o + 7] = 58;
                    len = o + 2 + 40 + 8;
                } else {
                    f[o] = 8;
                    int ip = o + 2, proto = kind < 3 || kind == 7 ? 6 : kind == 4 ? 1 : 17;
                    f[ip] = 0x45;
                    f[ip + 9] = (byte) proto;
                    f[ip + 12] = 10;
                    f[ip + 15] = (byte) (i % 3);
                    f[ip + 16] = 10;
                    f[ip + 17] = 1;
                    f[ip + 19] = (byte) i;
                    int l4 = ip + 20, dport = proto == 6 ? (kind == 0 ? 80 : 443) : kind == 3 ? 9 : 53;
                    f[l4 + 2] = (byte) (dport >> 8);
                    f[l4 + 3] = (byte) dport;
                    f[l4 + 13] = (byte) (i % 5 == 0 ? 2 : 0x10);
                    len = Math.max(60, l4 + 20 + (i % 700));
                    f[ip + 2] = (byte) ((len - o - 2) >> 8);
                    f[ip + 3] = (byte) (len - o - 2);
                }
                w.write(0, s, 0, len, len, 1_700_000_000_000_000_000L + i * 1000L);
            }
        }
    }
}
