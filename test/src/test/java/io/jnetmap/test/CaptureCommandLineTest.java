package io.jnetmap.test;

import io.jnetmap.capture.PacketReader;
import io.jnetmap.capture.PacketWriter;
import io.jnetmap.examples.Capture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@code capture} reads its command line as tcpdump's getopt does, without picocli, with picocli's messages. */
class CaptureCommandLineTest {
    private record Run(int code, String out, String err) {
    }

    private static Run capture(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = Capture.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static int packets(Path f) throws Exception {
        int n = 0;
        try (PacketReader r = PacketReader.open(f)) {
            while (r.next()) n++;
        }
        return n;
    }

    @Test
    void bundledFlagsAttachedValuesAndOptionsAfterTheExpression(@TempDir Path dir) throws Exception {
        Path in = dir.resolve("in.pcap");
        try (PacketWriter w = PacketWriter.create(in, PacketWriter.Format.PCAP, 262144, List.of("x"))) {
            for (int i = 0; i < 10; i++) {
                byte[] p = new byte[60];
                p[12] = 8;
                p[14] = 0x45;
                p[23] = (byte) (i % 2 == 0 ? 17 : 6); // UDP, TCP, UDP, …
                w.write(0, MemorySegment.ofArray(p), 0, 60, 60, 1_000_000_000L + i);
            }
        }
        Path out = dir.resolve("out.pcap");
        Run r = capture("-nr", in.toString(), "-c3", "-w", out.toString(), "udp");
        assertEquals(0, r.code(), r.toString());
        assertEquals(3, packets(out));
        r = capture("-r" + in, "udp", "-w", out.toString()); // getopt permutes: an option after the expression
        assertEquals(0, r.code(), r.toString());
        assertEquals(5, packets(out));
        r = capture("-r", in.toString(), "-w", out.toString(), "--", "tcp");
        assertEquals(0, r.code(), r.toString());
        assertEquals(5, packets(out));
        assertEquals("", r.out());
        assertEquals("reading from file " + in + ", link-type EN10MB (Ethernet), snapshot length 262144\n"
                + "10 packets read, 5 matched the filter, 5 written\n", r.err().replace(System.lineSeparator(), "\n"));
    }

    @Test
    void aBadLineIsOneLineAndExit2() {
        String hint = " (bin/jnetmap capture --help)" + System.lineSeparator();
        assertEquals(new Run(2, "", "capture: Unknown option: '-q'" + hint), capture("-q"));
        assertEquals(new Run(2, "", "capture: Unknown option: '-x'" + hint), capture("-nx"));
        assertEquals(new Run(2, "", "capture: Unknown option: '--nope'" + hint), capture("-r", "f", "--nope"));
        assertEquals(new Run(2, "", "capture: Missing required parameter for option '-r' (FILE)" + hint), capture("-r"));
        assertEquals(new Run(2, "", "capture: Invalid value for option '-c': 'ten' is not a number" + hint), capture("-c", "ten"));
        Run missing = capture("-r", "/nonexistent/x.pcap");
        assertEquals(1, missing.code(), missing.toString());
        assertEquals("capture: /nonexistent/x.pcap: no such file" + System.lineSeparator(), missing.err());
    }
}
