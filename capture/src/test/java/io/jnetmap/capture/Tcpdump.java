package io.jnetmap.capture;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** tcpdump as the oracle: installed with apt-get when missing, run on a trace whose timestamps number the packets. */
final class Tcpdump {
    private Tcpdump() {
    }

    static synchronized void ensureInstalled(String pkg, String binary) throws IOException, InterruptedException {
        if (run(List.of("sh", "-c", "command -v " + binary)).exit == 0) return;
        Result r = run(List.of("sh", "-c", "DEBIAN_FRONTEND=noninteractive apt-get install -y " + pkg + " || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y " + pkg + ")"));
        if (r.exit != 0) throw new IOException("cannot install " + pkg + ": " + r.err);
    }

    record Result(int exit, String out, String err) { }

    static Result run(List<String> cmd) throws IOException, InterruptedException {
        Path out = Files.createTempFile("tcpdump", ".out"), err = Files.createTempFile("tcpdump", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("timed out: " + cmd);
            }
            return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Writes packets to a pcap whose packet i has the timestamp i seconds. */
    /** Removes a test's scratch directory of traces (and the files in it); null: nothing made. */
    static void removeTraceDir(Path dir) throws IOException {
        if (dir != null) {
            try (var s = Files.list(dir)) {
                for (Path p : s.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    static void writeTrace(Path file, List<byte[]> packets) throws IOException {
        try (PacketWriter w = PacketWriter.create(file, PacketWriter.Format.PCAP_MICRO, 262144, List.of("test"))) {
            int i = 0;
            for (byte[] p : packets) {
                w.write(0, MemorySegment.ofArray(p), 0, p.length, p.length, i++ * 1_000_000_000L);
            }
        }
    }

    static List<byte[]> readTrace(Path file) throws IOException {
        List<byte[]> out = new ArrayList<>();
        try (PacketReader r = PacketReader.open(file)) {
            while (r.next()) {
                out.add(r.segment().asSlice(r.offset(), r.caplen()).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            }
        }
        return out;
    }

    /** The packets (by index) tcpdump selects from trace with expr, or null with the error if it rejects expr. */
    static BitSet select(Path trace, String expr, StringBuilder error) throws IOException, InterruptedException {
        Path out = Files.createTempFile("sel", ".pcap");
        try {
            Result r = run(List.of("tcpdump", "-r", trace.toString(), "-w", out.toString(), expr));
            if (r.exit != 0) {
                error.append(r.err.lines().filter(l -> l.startsWith("tcpdump:")).findFirst().orElse(r.err));
                return null;
            }
            BitSet s = new BitSet();
            try (PacketReader pr = PacketReader.open(out)) {
                while (pr.next()) s.set((int) (pr.timestampNanos() / 1_000_000_000L));
            }
            return s;
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /** Instruction count of tcpdump -d EXPR (on an Ethernet file), or -1 if it rejects it. */
    static int instructions(Path trace, String expr) throws IOException, InterruptedException {
        Result r = run(List.of("tcpdump", "-r", trace.toString(), "-d", expr));
        if (r.exit != 0) return -1;
        return (int) r.out.lines().filter(l -> l.startsWith("(")).count();
    }

    static BitSet selectWith(PacketFilter f, List<byte[]> packets) {
        BitSet s = new BitSet();
        for (int i = 0; i < packets.size(); i++) {
            byte[] p = packets.get(i);
            if (f.matches(MemorySegment.ofArray(p), 0, p.length, p.length)) s.set(i);
        }
        return s;
    }
}
