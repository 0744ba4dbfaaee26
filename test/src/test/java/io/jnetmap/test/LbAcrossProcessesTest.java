package io.jnetmap.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.examples.Main;
import io.jnetmap.middlebox.FlowHash;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** lb as a process, its consumers pkt-gen -f rxseq in four more: every flow's packets reach one consumer, in order. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class LbAcrossProcessesTest {
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    /** A running tool whose output is collected line by line; {@link #seen} opens when a line starts with a prefix. */
    static final class Tool {
        final Process process;
        final StringBuffer out = new StringBuffer();
        final CountDownLatch seen = new CountDownLatch(1);
        private final Thread reader;

        Tool(String prefix, String... args) throws Exception {
            this(prefix, command(args));
        }

        static List<String> command(String... args) {
            List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                    "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC", "-Xmx128m",
                    "-cp", System.getProperty("java.class.path"), Main.class.getName()));
            cmd.addAll(List.of(args));
            return cmd;
        }

        /** Runs {@code cmd} as it is. */
        Tool(String prefix, List<String> cmd) throws Exception {
            process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            reader = Thread.ofPlatform().daemon().start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        out.append(line).append('\n');
                        if (line.startsWith(prefix)) {
                            seen.countDown();
                        }
                    }
                } catch (java.io.IOException e) {
                    out.append(e);
                }
            });
        }

        /** SIGTERM to the tool, its output still read ({@link Process#destroy()} would close the stream). */
        void stop() {
            process.toHandle().destroy();
        }

        void kill() {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }

        void awaitLine() throws InterruptedException {
            assertTrue(seen.await(60, TimeUnit.SECONDS), "tool started: " + out);
        }

        String finish(int seconds) throws Exception {
            try {
                assertTrue(process.waitFor(seconds, TimeUnit.SECONDS), "tool finished: " + out);
                reader.join(10_000); // everything it printed
                return out.toString();
            } finally {
                kill();
            }
        }
    }

    static void frame(MemorySegment m, long off, int flow, int dir, long seq) {
        m.asSlice(off, 60).fill((byte) 0);
        m.set(U16, off + 12, (short) 0x0800);
        m.set(ValueLayout.JAVA_BYTE, off + 14, (byte) 0x45);
        m.set(U16, off + 16, (short) 46);
        m.set(ValueLayout.JAVA_BYTE, off + 22, (byte) 64);
        m.set(ValueLayout.JAVA_BYTE, off + 23, (byte) 6);
        int a = 0x0a000000 + flow;
        int b = 0xc0a80001;
        int pa = 10000 + flow;
        int pb = 443;
        m.set(U32, off + 26, dir == 0 ? a : b);
        m.set(U32, off + 30, dir == 0 ? b : a);
        m.set(U16, off + 34, (short) (dir == 0 ? pa : pb));
        m.set(U16, off + 36, (short) (dir == 0 ? pb : pa));
        m.set(U64, off + 42, seq);
    }

    @Test
    void fourConsumerProcessesReceiveEveryFlowWholeAndInOrder() throws Exception {
        String p = PktGenTest.uniqueParent();
        int pipes = 4;
        int total = 100_000;
        int flows = 500;
        // which pipe each packet goes to, and so the sequence number each consumer expects next
        MemorySegment scratch = MemorySegment.ofArray(new byte[64]);
        int[] pipeOf = new int[2 * flows];
        for (int f = 0; f < flows; f++) {
            for (int d = 0; d < 2; d++) {
                frame(scratch, 0, f, d, 0);
                pipeOf[2 * f + d] = FlowHash.bucket(FlowHash.hash(scratch, 0, 60), pipes);
            }
            assertEquals(pipeOf[2 * f], pipeOf[2 * f + 1], "flow " + f + " is symmetric");
        }
        long[] perPipe = new long[pipes];
        for (int i = 0; i < total; i++) {
            perPipe[pipeOf[i % (2 * flows)]]++;
        }
        Tool lb = new Tool("lb: ", "lb", "-i", p + "}" + pipes, "-p", p + ":" + pipes, "-B", "16384", "-o", "1");
        List<Tool> consumers = new ArrayList<>();
        try {
            lb.awaitLine();
            for (int k = 0; k < pipes; k++) {
                consumers.add(new Tool("pkt-gen: ", "pkt-gen", "-i", p + "}" + k, "-f", "rxseq", "-n", Long.toString(perPipe[k]), "-T", "0"));
            }
            for (Tool c : consumers) {
                c.awaitLine();
            }
            long[] next = new long[pipes];
            try (Port gen = Netmap.open(p + "{" + pipes)) {
                Ring t = gen.txRing(0);
                int i = 0;
                while (i < total) {
                    if (t.space() == 0) {
                        t.sync();
                        Thread.onSpinWait();
                        continue;
                    }
                    int j = t.head();
                    int n = Math.min(Math.min(t.space(), 256), total - i);
                    for (int k = 0; k < n; k++, i++) {
                        int fd = i % (2 * flows);
                        frame(t.memory(), t.bufOffset(j), fd >>> 1, fd & 1, next[pipeOf[fd]]++);
                        t.setSlot(j, 60, 0);
                        j = t.nextSlot(j);
                    }
                    t.advanceTo(j);
                    t.sync();
                    LockSupport.parkNanos(200_000); // about 1 Mpps at most: the consumers keep up
                }
                for (int k = 0; k < pipes; k++) {
                    String out = consumers.get(k).finish(90);
                    assertTrue(out.contains("Received " + perPipe[k] + " packets"), out);
                    assertTrue(out.contains("Sequence: lost 0 reordered 0"), out);
                }
            }
            lb.stop(); // SIGTERM: a last JSON line, then exit
            String out = lb.finish(30);
            Matcher m = Pattern.compile("\\{\"name\":\"" + Pattern.quote(p) + "\\}(\\d)\",\"forwarded\":(\\d+),\"dropped\":(\\d+)").matcher(out);
            long[] forwarded = new long[pipes];
            int lines = 0;
            while (m.find()) {
                forwarded[Integer.parseInt(m.group(1))] = Long.parseLong(m.group(2));
                assertEquals("0", m.group(3), out);
                lines++;
            }
            assertTrue(lines >= pipes, out);
            for (int k = 0; k < pipes; k++) {
                assertEquals(perPipe[k], forwarded[k], "lb's count for pipe " + k + ": " + out);
            }
        } finally {
            lb.process.destroyForcibly();
            consumers.forEach(c -> c.process.destroyForcibly());
        }
    }
}
