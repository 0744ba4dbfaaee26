package io.jnetmap.test;

import io.jnetmap.core.nic.NetLab;
import io.jnetmap.examples.Main;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tool as users run it: {@code pkt-gen -f txseq} on one end of a veth pair and {@code -f rxseq} on
 * the other, two processes in two network namespaces; every packet arrives, none is reordered, and
 * both print the backend, for each NIC backend. The sender is paced so that a busy CI machine does not
 * turn scheduling hiccups into losses: this checks counting, not speed (that is bench/run nic). Needs root.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NicPktGenTest {
    private static final int PACKETS = 100_000;

    private static NetLab lab;
    private static NetLab.Veth veth;

    @BeforeAll
    static void createVethPair() {
        lab = new NetLab();
        veth = lab.vethPair();
    }

    @AfterAll
    static void removeVethPair() {
        if (lab != null) {
            lab.close();
        }
    }

    /** Starts {@code bin/jnetmap ARGS} (the launcher's main class on this class path) in namespace {@code ns}. */
    private static Process jnetmap(String ns, Path log, String... args) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns, java, "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    @ParameterizedTest(name = "backend {0}")
    @ValueSource(strings = {"xdp", "packet"})
    void txseqToRxseqCountsEveryPacketInOrder(String backend) throws Exception {
        Path rxLog = Files.createTempFile("jnetmap-rxseq", ".txt");
        Path txLog = Files.createTempFile("jnetmap-txseq", ".txt");
        Process rx = jnetmap(veth.nsB(), rxLog, "pkt-gen", "-i", "netmap:" + veth.b() + "@backend=" + backend, "-f", "rxseq",
                "-n", "" + PACKETS, "-w", "0", "-T", "0");
        Process tx = null;
        try {
            // the receiver's port must be open before the first frame leaves
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.readString(rxLog).contains("pkt-gen: rxseq on")) {
                assertTrue(rx.isAlive(), "receiver started: " + Files.readString(rxLog));
                assertTrue(System.nanoTime() < deadline, "receiver opened its port in time");
                Thread.sleep(50);
            }
            tx = jnetmap(veth.nsA(), txLog, "pkt-gen", "-i", "netmap:" + veth.a() + "@backend=" + backend, "-f", "txseq",
                    "-n", "" + PACKETS, "-R", "200000", "-w", "0", "-T", "0", "-D", veth.macB(), "-S", veth.macA());
            assertTrue(tx.waitFor(60, TimeUnit.SECONDS), "sender finished");
            assertTrue(rx.waitFor(30, TimeUnit.SECONDS), "receiver got all " + PACKETS + " packets: " + Files.readString(rxLog));
            String sent = Files.readString(txLog);
            String received = Files.readString(rxLog);
            assertEquals(0, tx.exitValue(), sent);
            assertEquals(0, rx.exitValue(), received);
            assertTrue(sent.contains("(backend af_" + (backend.equals("xdp") ? "xdp/copy/" : "packet/tpacket_v3")), sent);
            assertTrue(received.contains("(backend af_" + (backend.equals("xdp") ? "xdp/copy/" : "packet/tpacket_v3")), received);
            assertTrue(sent.contains("Sent " + PACKETS + " packets"), sent);
            assertTrue(received.contains("Received " + PACKETS + " packets"), received);
            assertTrue(received.contains("Sequence: lost 0 reordered 0"), received);
            assertTrue(received.contains("rxDrops=0"), "the kernel dropped nothing: " + received);
        } finally {
            if (tx != null) {
                tx.destroyForcibly();
            }
            rx.destroyForcibly();
            rx.waitFor(10, TimeUnit.SECONDS);
            Files.deleteIfExists(rxLog);
            Files.deleteIfExists(txLog);
        }
    }
}
