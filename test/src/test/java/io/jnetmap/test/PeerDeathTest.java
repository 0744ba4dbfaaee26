package io.jnetmap.test;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.PortBrokenException;
import io.jnetmap.examples.Main;
import io.jnetmap.pipe.PipePort;
import io.jnetmap.poll.Pollable;
import io.jnetmap.poll.Poller;
import io.jnetmap.poll.WaitStrategy;
import io.jnetmap.vale.ValeSwitch;
import io.jnetmap.vale.ValeSwitches;
import io.jnetmap.vale.ctl.RemotePort;
import io.jnetmap.vale.ctl.ValeCtl;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The death of the process at the other end of a cross-process relation is seen within a second (a
 * pidfd, no timer): a switch's host (its remote ports break, a user asleep in a Poller wakes up with
 * ERR, reopening reaches a new host), a remote port's process (the host reaps its port), a pipe's
 * peer (the surviving end learns it).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PeerDeathTest {
    static Process startTool(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC", "-Xmx128m",
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    @Test
    void aRemotePortAsleepInAPollerWakesWithErrWhenTheHostIsKilled() throws Exception {
        String sw = ValeAcrossProcessesTest.uniqueSwitch();
        Process host = startTool("vale-ctl", "--host", sw);
        try {
            ValeAcrossProcessesTest.await("the child to host " + sw, () -> !ValeCtl.find(sw).isEmpty());
            try (Port a = Netmap.open(sw + ":a"); Poller poller = new Poller(WaitStrategy.block())) {
                RemotePort rp = assertInstanceOf(RemotePort.class, a);
                poller.add(a.pollable(), Pollable.IN);
                CompletableFuture<Integer> woke = CompletableFuture.supplyAsync(() -> {
                    int n = poller.poll(TimeUnit.SECONDS.toNanos(30));
                    return n > 0 ? poller.readyEvents(0) : 0;
                });
                Thread.sleep(300); // asleep in epoll_wait by now
                long killed = System.nanoTime();
                host.destroyForcibly();
                int events = woke.get(10, TimeUnit.SECONDS);
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
                assertTrue((events & Pollable.ERR) != 0, "woken with ERR, got " + events);
                assertTrue(ms < 1000, "detected after " + ms + " ms");
                PortBrokenException e = assertThrows(PortBrokenException.class, a::rxSync);
                assertTrue(e.getMessage().startsWith("switch " + sw + "'s host (pid " + host.pid() + ") died"), e.getMessage());
                assertThrows(PortBrokenException.class, a::txSync);
                assertTrue(rp.brokenReason() != null);
            }
            // reopening reaches the switch's next host: this process, the first to open it now
            try (Port a = Netmap.open(sw + ":a")) {
                assertFalse(a instanceof RemotePort, a.backend());
                assertTrue(ValeSwitches.get(sw).isPresent());
            }
        } finally {
            host.destroyForcibly();
        }
    }

    @Test
    void pktGenOnARemotePortPrintsOneLineAndExitsWhenTheHostIsKilled() throws Exception {
        String sw = ValeAcrossProcessesTest.uniqueSwitch();
        Process host = startTool("vale-ctl", "--host", sw);
        Process tx = null;
        try {
            ValeAcrossProcessesTest.await("the child to host " + sw, () -> !ValeCtl.find(sw).isEmpty());
            tx = PktGenTest.startPktGen("-i", sw + ":b@backpressure=on", "-f", "tx", "-T", "0");
            Process sender = tx;
            ValeAcrossProcessesTest.await("the sender's port", () -> ValeCtl.find(sw).get(0).ports().size() == 1 || !sender.isAlive());
            Thread.sleep(300);
            host.destroyForcibly();
            assertTrue(tx.waitFor(10, TimeUnit.SECONDS), "pkt-gen stopped");
            String out = new String(tx.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertEquals(1, tx.exitValue(), out);
            assertTrue(out.contains("pkt-gen: switch " + sw + "'s host (pid " + host.pid() + ") died"), out);
            assertFalse(out.contains("\tat "), "no stack trace: " + out);
        } finally {
            host.destroyForcibly();
            if (tx != null) {
                tx.destroyForcibly();
            }
        }
    }

    @Test
    void theHostReapsThePortOfAKilledProcessWithinASecond() throws Exception {
        String sw = ValeAcrossProcessesTest.uniqueSwitch();
        try (Port a = Netmap.open(sw + ":a")) {
            ValeSwitch s = ValeSwitches.get(sw).orElseThrow();
            Process child = startTool("pkt-gen", "-i", sw + ":b", "-f", "rx", "-T", "0");
            try {
                ValeAcrossProcessesTest.await("the child's port", () -> s.port("b").isPresent());
                Thread.sleep(200);
                long killed = System.nanoTime();
                child.destroyForcibly();
                while (s.port("b").isPresent()) {
                    assertTrue(System.nanoTime() - killed < TimeUnit.SECONDS.toNanos(1), "port b still there after 1 s");
                    Thread.sleep(5);
                }
            } finally {
                child.destroyForcibly();
            }
            assertEquals(1, s.portList().size());
        }
    }

    @Test
    void aPipeEndLearnsThatItsPeerDiedAndANewPeerCanAttach() throws Exception {
        String parent = PktGenTest.uniqueParent();
        try (Port rx = Netmap.open(parent + "}1")) {
            PipePort end = assertInstanceOf(PipePort.class, rx);
            Process tx = startTool("pkt-gen", "-i", parent + "{1", "-f", "tx", "-T", "0");
            try {
                ValeAcrossProcessesTest.await("the sender to open", end::peerOpen);
                rx.rxSync(); // the end watches the peer it sees
                long killed = System.nanoTime();
                tx.destroyForcibly();
                while (end.peerDeaths() == 0) {
                    assertTrue(System.nanoTime() - killed < TimeUnit.SECONDS.toNanos(1), "peer death not seen after 1 s");
                    Thread.sleep(2);
                }
                assertTrue(end.lastPeerDeath().contains("(pid " + tx.pid() + ") died"), end.lastPeerDeath());
                assertFalse(end.peerOpen());
            } finally {
                tx.destroyForcibly();
            }
            // drain what the dead sender left, then a new sender finishes the job
            rx.rxSync();
            rx.rxRing(0).advanceTo(rx.rxRing(0).tail());
            rx.rxSync();
            String out = PktGenTest.finish(PktGenTest.startPktGen("-i", parent + "{1", "-f", "tx", "-n", "100", "-T", "0"), 60);
            assertTrue(out.contains("Sent 100 packets"), out);
            ValeAcrossProcessesTest.await("the second sender's packets", () -> {
                rx.rxSync();
                return rx.rxRing(0).space() > 0;
            });
            assertEquals(0, end.peerFaults());
        }
    }
}
