package io.jnetmap.test;

import io.jnetmap.core.Region;
import io.jnetmap.vale.ctl.ValeCtl;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Long runs that the default suite cannot afford ({@code bin/test slow}): many millions of packets and
 * many thousands of sleep/wake-up hand-overs between processes, where a lost wake-up shows as a hang
 * (the timeout fails it) and a lost, duplicated or reordered packet shows in rxseq's count.
 */
@Tag("slow")
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class SoakTest {
    private static void assertExact(String n, String txOut, String rxOut) {
        assertTrue(txOut.contains("Sent " + n + " packets"), txOut);
        assertTrue(rxOut.contains("Received " + n + " packets"), rxOut);
        assertTrue(rxOut.contains("Sequence: lost 0 reordered 0"), rxOut);
    }

    /** 10^8 packets between two busy-polling JVMs through one pipe. */
    @Test
    void aHundredMillionPacketsThroughAPipeBetweenProcesses() throws Exception {
        String parent = PktGenTest.uniqueParent();
        String n = "100000000";
        Process rx = PktGenTest.startPktGen("-i", parent + "}1", "-f", "rxseq", "-n", n, "-T", "5000", "-W");
        Process tx = PktGenTest.startPktGen("-i", parent + "{1", "-f", "txseq", "-n", n, "-T", "5000", "-b", "256", "-W");
        assertExact(n, PktGenTest.finish(tx, 400), PktGenTest.finish(rx, 60));
        assertFalse(Files.exists(Region.directory().resolve("pipe." + parent)));
    }

    /**
     * Both ends sleep in epoll between small paced bursts: every burst is a wake-up across processes
     * (the sender paced at 50 kpps in bursts of 8: about 6 000 wake-ups a second for 20 s).
     */
    @Test
    void pacedBurstsBetweenSleepingProcessesLoseNoWakeUp() throws Exception {
        String parent = PktGenTest.uniqueParent();
        String n = "1000000";
        Process rx = PktGenTest.startPktGen("-i", parent + "}1", "-f", "rxseq", "-n", n, "-T", "5000");
        Process tx = PktGenTest.startPktGen("-i", parent + "{1", "-f", "txseq", "-n", n, "-T", "5000", "-b", "8", "-R", "50000");
        assertExact(n, PktGenTest.finish(tx, 120), PktGenTest.finish(rx, 60));
    }

    /** 2 * 10^7 packets from one process to another through a switch hosted by the receiver, back-pressured. */
    @Test
    void twentyMillionPacketsThroughASwitchBetweenProcesses() throws Exception {
        String sw = ValeAcrossProcessesTest.uniqueSwitch();
        String n = "20000000";
        Process rx = PktGenTest.startPktGen("-i", sw + ":a", "-f", "rxseq", "-n", n, "-T", "5000");
        ValeAcrossProcessesTest.await("pkt-gen rx to host " + sw, () -> !ValeCtl.find(sw).isEmpty());
        Process tx = PktGenTest.startPktGen("-i", sw + ":b@backpressure=on", "-f", "txseq", "-n", n, "-T", "5000");
        assertExact(n, PktGenTest.finish(tx, 400), PktGenTest.finish(rx, 60));
        assertTrue(ValeCtl.find(sw).isEmpty(), "the switch went away with its host");
    }
}
