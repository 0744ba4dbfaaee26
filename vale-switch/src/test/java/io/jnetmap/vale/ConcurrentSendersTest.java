package io.jnetmap.vale;

import io.jnetmap.vale.ctl.SwitchFileLayout;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.poll.Pollable;
import io.jnetmap.sys.Epoll;
import io.jnetmap.vale.Frames.Frame;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static io.jnetmap.vale.Frames.mac;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Several sender threads fill one destination at once through leases: every packet is either
 * delivered, in its sender's order, or counted as dropped; with back-pressure none is dropped. Wake-ups
 * reach a receiver or a back-pressured sender sleeping on its port's descriptor.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ConcurrentSendersTest {
    private static final int SENDERS = 4;
    private static final int PER_SENDER = 60_000;
    private static final long RECEIVER = mac(100);

    private final String sw = Names.unique("valecc");

    /** Per-sender received counts and the last sequence number seen (order check). */
    private static final class Tally {
        final long[] received = new long[SENDERS];
        final long[] last = new long[SENDERS];
        String error;

        Tally() {
            java.util.Arrays.fill(last, -1);
        }

        void take(List<Frame> frames) {
            for (Frame f : frames) {
                int s = f.tag();
                if (s < 0 || s >= SENDERS) {
                    error = "frame with tag " + s;
                    continue;
                }
                if (f.seq() <= last[s] && error == null) {
                    error = "sender " + s + ": seq " + f.seq() + " after " + last[s];
                }
                last[s] = f.seq();
                received[s]++;
            }
        }
    }

    private void run(String senderOptions) throws Exception {
        run(senderOptions, false);
    }

    /**
     * A receiving round of a receiver that polls without pause, as a busy-polling application does:
     * rxsync (which also returns the slots of the previous round), take every new frame and check its
     * bytes, release them at the next round. Most rounds release nothing: their rxsync reads the
     * published tail without the destination's lock, so this checks that every slot it shows is whole.
     */
    private static void receiveBusy(Ring r, Tally tally) {
        r.sync();
        List<Frames.Frame> out = new ArrayList<>();
        MemorySegment m = r.memory();
        for (int j = r.head(); j != r.tail(); j = r.nextSlot(j)) {
            long off = r.bufOffset(j);
            int len = r.len(j);
            if (len != 60 || !Frames.payloadIntact(r, j)) {
                tally.error = tally.error != null ? tally.error : "slot " + j + ": incomplete frame (len " + len + ")";
            }
            out.add(new Frames.Frame(Packet.readMac(m, off), Packet.readMac(m, off + 6), m.get(Frames.U32, off + 14),
                    m.get(Frames.U64, off + 18), len, r.flags(j)));
        }
        r.advanceTo(r.tail());
        tally.take(out);
    }

    private void run(String senderOptions, boolean busyReceiver) throws Exception {
        List<Port> senders = new ArrayList<>();
        try (Port r = Netmap.open(sw + ":r@conf:slots=256")) {
            for (int i = 0; i < SENDERS; i++) {
                senders.add(Netmap.open(sw + ":s" + i + senderOptions));
            }
            Frames.send(r, Frames.BROADCAST, RECEIVER, 1); // the switch learns where RECEIVER is
            for (Port s : senders) {
                Frames.receive(s);
            }
            boolean bp = senderOptions.contains("backpressure=on");
            AtomicReference<Throwable> failed = new AtomicReference<>();
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < SENDERS; i++) {
                Port s = senders.get(i);
                int tag = i;
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        long seq = 0;
                        Ring t = s.txRing(0);
                        while (seq < PER_SENDER) {
                            seq += Frames.send(s, RECEIVER, mac(tag + 1), tag, seq, (int) Math.min(64, PER_SENDER - seq), 60, 0);
                            if (t.space() == 0) {
                                Thread.yield(); // back-pressured: the receiver must drain first
                            }
                        }
                        while (t.space() != t.numSlots() - 1) {
                            t.sync(); // back-pressure: push what still waits
                            Thread.yield();
                        }
                    } catch (Throwable e) {
                        failed.compareAndSet(null, e);
                    }
                }));
            }
            Tally tally = new Tally();
            while (threads.stream().anyMatch(Thread::isAlive)) {
                if (busyReceiver) {
                    receiveBusy(r.rxRing(0), tally);
                    continue;
                }
                tally.take(Frames.receive(r));
                if (!bp) {
                    Thread.yield(); // let the ring fill now and then: drops must happen and be counted
                }
            }
            for (Thread t : threads) {
                t.join();
            }
            tally.take(Frames.receive(r)); // txsync is synchronous: all that was forwarded is here now
            assertNull(failed.get());
            assertNull(tally.error);
            ValeSwitch s = ValeSwitches.get(sw).orElseThrow();
            long delivered = 0;
            long dropped = 0;
            for (int i = 0; i < SENDERS; i++) {
                SwitchPort sp = s.port("s" + i).orElseThrow();
                long drops = sp.txCounter(SwitchFileLayout.DROP_FULL);
                assertEquals(PER_SENDER, sp.txCounter(SwitchFileLayout.TX_PACKETS));
                assertEquals(PER_SENDER, tally.received[i] + drops, "sender " + i + ": sent = delivered + dropped");
                assertEquals(drops, sp.drops(), "full ring is the only cause");
                if (bp) {
                    assertEquals(0, drops, "back-pressure drops nothing");
                }
                delivered += tally.received[i];
                dropped += drops;
            }
            SwitchPort rp = s.port("r").orElseThrow();
            assertEquals(delivered, rp.rxCounter(SwitchFileLayout.RX_PACKETS));
            assertEquals(dropped, rp.rxCounter(SwitchFileLayout.RX_DROP_FULL));
        } finally {
            senders.forEach(Port::close);
        }
    }

    @Test
    void severalSendersIntoOneReceiverAccountForEveryPacket() throws Exception {
        run("");
    }

    @Test
    void severalBackPressuredSendersLoseNothing() throws Exception {
        run("@backpressure=on");
    }

    @Test
    void aBusyPollingReceiverSeesOnlyWholePacketsAndEveryPacketIsAccounted() throws Exception {
        run("", true);
    }

    @Test
    void aBusyPollingReceiverWithBackPressuredSendersLosesNothing() throws Exception {
        run("@backpressure=on", true);
    }

    @Test
    void aSleepingReceiverIsWokenByASender() throws Exception {
        try (Port a = Netmap.open(sw + ":a"); Port b = Netmap.open(sw + ":b"); Epoll ep = new Epoll(1)) {
            Pollable p = b.pollable();
            ep.add(p.fd(), p.fdEvents(Pollable.IN), 0);
            assertEquals(0, p.arm(Pollable.IN), "nothing to receive yet");
            Thread sender = Thread.ofPlatform().start(() -> {
                sleep(50);
                Frames.send(a, Frames.BROADCAST, mac(1), 1);
            });
            assertEquals(1, ep.await(10_000), "woken by the delivery");
            p.disarm();
            sender.join();
            assertTrue((p.pollNow(Pollable.IN) & Pollable.IN) != 0);
            assertEquals(1, Frames.receive(b).size());
        }
    }

    @Test
    void aBackPressuredSenderSleepsUntilTheReceiverMakesRoom() throws Exception {
        try (Port a = Netmap.open(sw + ":a@backpressure=on@conf:slots=16");
             Port b = Netmap.open(sw + ":b@conf:slots=8"); Epoll ep = new Epoll(1)) {
            Frames.send(a, Frames.BROADCAST, mac(1), 15);
            Ring t = a.txRing(0);
            assertEquals(7, t.space(), "8 packets wait for room in b");
            Pollable p = a.pollable();
            ep.add(p.fd(), p.fdEvents(Pollable.OUT), 0);
            t.setCur(t.tail()); // wait until more room than now
            assertEquals(0, p.arm(Pollable.OUT) & Pollable.OUT);
            Thread receiver = Thread.ofPlatform().start(() -> {
                sleep(50);
                Frames.receive(b);
            });
            assertEquals(1, ep.await(10_000), "woken when b made room");
            p.disarm();
            receiver.join();
            assertTrue((p.pollNow(Pollable.OUT) & Pollable.OUT) != 0);
            assertEquals(14, t.space(), "7 more went out");
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
