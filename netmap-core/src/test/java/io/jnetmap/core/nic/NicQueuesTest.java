package io.jnetmap.core.nic;

import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.poll.Pollable;
import io.jnetmap.poll.Poller;
import io.jnetmap.poll.WaitStrategy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Interfaces with several queues: {@code netmap:IF} has a ring pair per queue, each its own AF_XDP
 * socket, and what is sent on TX ring q of one end of a veth pair arrives on RX ring q of the other
 * (with native XDP at the receiver: generic XDP on veth sees every frame on queue 0);
 * {@code netmap:IF-N} binds pair N alone, and two such ports of one process share the interface's XDP
 * program. Needs root.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NicQueuesTest {
    @RegisterExtension
    static final NetLab.Fixture NET = NetLab.fixture(2);



    /** Opens {@code name} with native XDP: veth keeps a frame's queue only on its NAPI (native) path. */
    private static Port openNative(String ns, String name) {
        System.setProperty("jnetmap.xdp.mode", "drv");
        try {
            return NetLab.open(ns, name);
        } finally {
            System.clearProperty("jnetmap.xdp.mode");
        }
    }

    @Test
    void eachQueueIsARingPairAndFramesKeepTheirQueue() {
        try (Port a = NetLab.open(NET.veth().nsA(), "netmap:" + NET.veth().a());
             Port b = openNative(NET.veth().nsB(), "netmap:" + NET.veth().b())) {
            assertEquals("af_xdp/copy/drv", b.backend());
            assertEquals(2, a.txRings());
            assertEquals(2, b.rxRings());
            byte[] dst = Frames.mac(NET.veth().macB());
            byte[] src = Frames.mac(NET.veth().macA());
            for (int q = 0; q < 2; q++) {
                Ring t = a.txRing(q);
                int i = t.head();
                for (int k = 0; k < 10; k++) {
                    Frames.write(t, i, dst, src, 100L * q + k, 60);
                    i = t.nextSlot(i);
                }
                t.advanceTo(i);
                t.sync();
            }
            int[] got = new int[2];
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while ((got[0] < 10 || got[1] < 10) && System.nanoTime() < deadline) {
                for (int q = 0; q < 2; q++) {
                    Ring r = b.rxRing(q);
                    r.sync();
                    for (int j = r.head(); j != r.tail(); j = r.nextSlot(j)) {
                        long seq = Frames.seq(r, j);
                        assertEquals(100L * q + got[q], seq, "frame sent on TX ring " + q + " arrives on RX ring " + q + ", in order");
                        got[q]++;
                    }
                    r.advanceTo(r.tail());
                }
            }
            assertEquals(10, got[0]);
            assertEquals(10, got[1]);
        }
    }

    @Test
    void thePollableOfSeveralQueuesWakesForAnyOfThem() {
        try (Port a = NetLab.open(NET.veth().nsA(), "netmap:" + NET.veth().a());
             Port b = openNative(NET.veth().nsB(), "netmap:" + NET.veth().b());
             Poller poller = new Poller(WaitStrategy.block())) {
            poller.add(b.pollable(), Pollable.IN);
            assertEquals(0, poller.poll(TimeUnit.MILLISECONDS.toNanos(50)), "nothing yet");
            Ring t = a.txRing(1);
            Frames.write(t, t.head(), Frames.mac(NET.veth().macB()), Frames.mac(NET.veth().macA()), 1, 60);
            t.advanceTo(t.nextSlot(t.head()));
            t.sync();
            assertEquals(1, poller.poll(TimeUnit.SECONDS.toNanos(5)), "woken by queue 1");
            assertEquals(Pollable.IN, poller.readyEvents(0) & Pollable.IN);
            assertEquals(1, b.rxRing(1).space(), "the frame is on RX ring 1");
        }
    }

    @Test
    void oneRingPairPerPortAndThePortsShareTheProgram() {
        try (Port q1 = NetLab.open(NET.veth().nsB(), "netmap:" + NET.veth().b() + "-1");
             Port q0 = NetLab.open(NET.veth().nsB(), "netmap:" + NET.veth().b() + "-0")) {
            assertEquals(1, q1.rxRings());
            assertEquals(1, q1.rxRing(0).ringId(), "netmap:IF-1 binds hardware ring 1");
            assertEquals(0, q0.rxRing(0).ringId());
            String link = NetLab.inNs(NET.veth().nsB(), "ip", "-d", "link", "show", NET.veth().b());
            assertTrue(link.contains("jnetmap_redir"), "one program serves both: " + link);
            q1.close();
            assertTrue(NetLab.inNs(NET.veth().nsB(), "ip", "-d", "link", "show", NET.veth().b()).contains("jnetmap_redir"),
                    "still attached while a port uses it");
        }
        assertTrue(!NetLab.inNs(NET.veth().nsB(), "ip", "-d", "link", "show", NET.veth().b()).contains("xdp"),
                "detached with the last port");
    }
}
