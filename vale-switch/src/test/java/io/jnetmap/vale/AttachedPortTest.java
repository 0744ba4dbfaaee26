package io.jnetmap.vale;

import io.jnetmap.vale.ctl.SwitchFileLayout;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.core.RingContractTest;
import io.jnetmap.vale.Frames.Frame;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static io.jnetmap.vale.Frames.mac;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Any port attached to a switch, driven by a polling thread: here one end of a pipe-like pair, the
 * other end used by the test as a program on the far side (as a NIC's wire, or a pipe's other user).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AttachedPortTest {

    /** Receives on {@code p} until {@code n} frames arrived (the polling thread works asynchronously). */
    static List<Frame> await(Port p, int n) {
        List<Frame> got = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (got.size() < n) {
            got.addAll(Frames.receive(p));
            if (System.nanoTime() > deadline) {
                fail("received " + got.size() + " of " + n + " on " + p.name());
            }
            Thread.onSpinWait();
        }
        return got;
    }

    /** Sends {@code n} frames from {@code p}, syncing until its TX ring has taken them all. */
    static void sendAll(Port p, long dst, long src, int n) {
        long seq = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (seq < n) {
            seq += Frames.send(p, dst, src, 0, seq, (int) Math.min(32, n - seq), 60, 0);
            if (System.nanoTime() > deadline) {
                fail("sent " + seq + " of " + n + " from " + p.name());
            }
        }
    }

    @Test
    void trafficFlowsBothWaysThroughTheAttachedPortAndIsLearned() {
        String sw = Names.unique("valeat");
        PairPort[] pair = PairPort.open("wire" + sw, 64);
        try (Port a = Netmap.open(sw + ":a"); Port b = Netmap.open(sw + ":b")) {
            ValeSwitch s = ValeSwitches.get(sw).orElseThrow();
            AttachedPort ap = s.attach(pair[0], AttachOptions.defaults().withName("eth9").withSpin(0));
            assertEquals("eth9", ap.name());
            assertEquals("test-pair", ap.backend());
            assertEquals(3, s.portList().size());

            Frames.send(a, Frames.BROADCAST, mac(1), 5); // to b and, through the polling thread, the wire
            assertEquals(5, await(pair[1], 5).size());
            assertEquals(5, Frames.receive(b).size());

            sendAll(pair[1], mac(1), mac(9), 7); // from the wire: mac(1) is known on a
            assertEquals(7, await(a, 7).size());
            assertEquals(0, Frames.receive(b).size(), "unicast, learned: not flooded");

            Frames.send(b, mac(9), mac(2), 3); // mac(9) was learned on the attached port
            assertEquals(3, await(pair[1], 3).size());
            assertEquals(0, Frames.receive(a).size());
            assertEquals(7, ap.txCounter(SwitchFileLayout.TX_PACKETS));
            assertEquals(8, ap.rxCounter(SwitchFileLayout.RX_PACKETS));
            assertNull(ap.failure());

            s.detach("eth9");
            assertEquals(2, s.portList().size());
            assertFalse(pair[0].isClosed(), "the caller keeps a port attached without closeOnDetach");
            Frames.send(a, Frames.BROADCAST, mac(1), 1);
            assertEquals(0, Frames.receive(pair[1]).size(), "detached: nothing reaches the wire");
        } finally {
            pair[0].close();
            pair[1].close();
        }
    }

    @Test
    void aBackPressuredAttachedPortLosesNothing() {
        String sw = Names.unique("valeat");
        PairPort[] pair = PairPort.open("wire" + sw, 256);
        try (Port a = Netmap.open(sw + ":a@conf:slots=16")) {
            ValeSwitch s = ValeSwitches.get(sw).orElseThrow();
            s.attach(pair[0], AttachOptions.defaults().withBackPressure(true).withCloseOnDetach(true));
            int n = 2000;
            Thread sender = Thread.ofPlatform().start(() -> sendAll(pair[1], Frames.BROADCAST, mac(9), n));
            long expect = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (expect < n && System.nanoTime() < deadline) {
                for (Frame f : Frames.receive(a)) {
                    assertEquals(expect++, f.seq());
                }
            }
            sender.join();
            assertEquals(n, expect);
            AttachedPort ap = (AttachedPort) s.port(AttachedPort.derivedName(pair[0])).orElseThrow();
            assertEquals(0, ap.drops());
            assertTrue(ap.txCounter(SwitchFileLayout.BP_STALLS) > 0, "a 16-slot receiver made the wire wait");
            s.detach(ap.name());
            assertTrue(pair[0].isClosed(), "closeOnDetach closes the port");
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        } finally {
            pair[0].close();
            pair[1].close();
        }
    }

    /** The ring contract from a VALE port, through the switch and an attached port, to the program on the wire. */
    abstract static class Through extends RingContractTest {
        abstract boolean fromWire();

        @Override
        protected Fixture open(int slots) {
            String sw = Names.unique("valeac");
            // to the wire, the wire end's rings hold two rings' worth: VALE's drop semantics would otherwise
            // drop what the suite queues beyond a full receiver (as for VALE receivers)
            PairPort[] pair = PairPort.open("wire" + sw, fromWire() ? slots : 2 * slots + 1);
            Port a = Netmap.open(sw + ":a@conf:tx-slots=" + slots + ",rx-slots=" + (2 * slots + 1) + ",extra-bufs=8");
            ValeSwitch s = ValeSwitches.get(sw).orElseThrow();
            s.attach(pair[0], AttachOptions.defaults().withBackPressure(true).withSpin(0));
            Supplier<Port> tx = () -> fromWire() ? pair[1] : a;
            Supplier<Port> rx = () -> fromWire() ? a : pair[1];
            return new Fixture() {
                @Override
                public Port tx() {
                    return tx.get();
                }

                @Override
                public Port rx() {
                    return rx.get();
                }

                @Override
                public void close() {
                    if (!s.isClosed() && s.port(AttachedPort.derivedName(pair[0])).isPresent()) {
                        s.detach(AttachedPort.derivedName(pair[0]));
                    }
                    a.close();
                    pair[0].close();
                    pair[1].close();
                }
            };
        }

        @Override
        protected void writePacket(Ring ring, int slot, long seq) {
            super.writePacket(ring, slot, seq);
            Frames.ethernet(ring.memory(), ring.bufOffset(slot), Frames.BROADCAST, 0x020000000001L, Frames.TYPE);
        }
    }

    @Nested
    class FromSwitchToWire extends Through {
        @Override
        boolean fromWire() {
            return false;
        }
    }

    @Nested
    class FromWireToSwitch extends Through {
        @Override
        boolean fromWire() {
            return true;
        }

        @Override
        protected boolean zeroCopy() {
            return false; // the wire end's own pair swaps buffers, but the switch copies into a's region
        }
    }
}
