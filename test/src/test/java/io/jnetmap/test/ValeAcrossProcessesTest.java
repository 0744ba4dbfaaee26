package io.jnetmap.test;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Region;
import io.jnetmap.vale.SwitchPort;
import io.jnetmap.vale.ValeSwitch;
import io.jnetmap.vale.ValeSwitches;
import io.jnetmap.vale.ctl.ValeCtl;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A switch is hosted by the first process that opens one of its ports; other processes open ports of
 * it by name (through a pipe into the host): pkt-gen drives VALE ports in two processes unchanged.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class ValeAcrossProcessesTest {
    static String uniqueSwitch() {
        return "valex" + ProcessHandle.current().pid() + "n" + (System.nanoTime() & 0xffffff);
    }

    /** Waits until {@code check} holds (the host answers requests every 50 ms). */
    static void await(String what, java.util.function.BooleanSupplier check) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!check.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
            Thread.sleep(20);
        }
    }

    @Test
    void pktGenSendsAndReceivesThroughASwitchInTwoProcesses() throws Exception {
        String sw = uniqueSwitch();
        String n = "1000000";
        Process rx = PktGenTest.startPktGen("-i", sw + ":a", "-f", "rxseq", "-n", n, "-T", "500");
        await("pkt-gen rx to host " + sw, () -> !ValeCtl.find(sw).isEmpty());
        Process tx = PktGenTest.startPktGen("-i", sw + ":b@backpressure=on", "-f", "txseq", "-n", n, "-T", "500");
        String txOut = PktGenTest.finish(tx);
        String rxOut = PktGenTest.finish(rx);
        assertTrue(rxOut.contains("Received " + n + " packets"), rxOut);
        assertTrue(rxOut.contains("Sequence: lost 0 reordered 0"), rxOut);
        assertTrue(txOut.contains("Sent " + n + " packets"), txOut);
        assertTrue(txOut.contains("vale@" + rx.pid()), "the sender's port lives in the receiver's switch: " + txOut);
        assertTrue(ValeCtl.find(sw).isEmpty(), "the switch went away with its host");
        assertFalse(Files.exists(Region.directory().resolve(".vale").resolve(sw + "." + rx.pid() + ".stats")));
    }

    @Test
    void aPortOfAProcessThatDiesLeavesTheSwitch() throws Exception {
        String sw = uniqueSwitch();
        try (Port a = Netmap.open(sw + ":a")) {
            ValeSwitch s = ValeSwitches.get(sw).orElseThrow();
            Process child = PktGenTest.startPktGen("-i", sw + ":b", "-f", "rx", "-T", "0");
            try {
                await("the child's port", () -> s.port("b").isPresent());
                SwitchPort b = s.port("b").orElseThrow();
                assertEquals("pipe", b.backend(), "reached through a pipe");
                child.destroyForcibly();
                assertTrue(child.waitFor(30, TimeUnit.SECONDS));
                await("the dead child's port to be detached", () -> s.port("b").isEmpty());
            } finally {
                child.destroyForcibly();
            }
            assertEquals(1, s.portList().size());
        }
    }
}
