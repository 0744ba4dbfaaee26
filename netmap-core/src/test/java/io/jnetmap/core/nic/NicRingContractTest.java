package io.jnetmap.core.nic;

import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.core.RingContractTest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * netmap's ring contract on NIC ports: the sender is one end of a veth pair, the receiver the other,
 * each in its own network namespace, both opened with the backend of the subclass. Needs root.
 */
abstract class NicRingContractTest extends RingContractTest {
    @RegisterExtension
    static final NetLab.Fixture NET = NetLab.fixture(1);


    /** {@code xdp} or {@code packet}. */
    protected abstract String backend();

    /** What {@link Port#backend()} must start with. */
    protected abstract String expectedBackend();


    @Override
    protected Fixture open(int slots) {
        Port tx = NetLab.open(NET.veth().nsA(), "netmap:" + NET.veth().a() + "@backend=" + backend() + "@conf:slots=" + slots + ",extra-bufs=8");
        Port rx;
        try {
            rx = NetLab.open(NET.veth().nsB(), "netmap:" + NET.veth().b() + "@backend=" + backend() + "@conf:slots=" + slots);
        } catch (RuntimeException e) {
            tx.close();
            throw e;
        }
        return Fixture.of(tx, rx);
    }

    @Override
    protected void writePacket(Ring ring, int slot, long seq) {
        Frames.write(ring, slot, Frames.mac(NET.veth().macB()), Frames.mac(NET.veth().macA()), seq, packetLength());
    }

    @Override
    protected long readSeq(Ring ring, int slot) {
        return Frames.seq(ring, slot);
    }

    @Test
    void backendIsTheOneAskedFor() {
        assertTrue(f.tx().backend().startsWith(expectedBackend()), f.tx().backend());
        assertTrue(f.rx().backend().startsWith(expectedBackend()), f.rx().backend());
        assertEquals(1, f.tx().txRings(), "a veth with one queue has one ring pair");
    }

    @Test
    void countersSeeTheTraffic() {
        Ring t = f.tx().txRing(0);
        int i = t.head();
        for (int n = 0; n < 5; n++) {
            writePacket(t, i, 1000 + n);
            i = t.nextSlot(i);
        }
        t.advanceTo(i);
        t.sync();
        Ring r = f.rx().rxRing(0);
        long deadline = System.nanoTime() + 5_000_000_000L;
        int got = 0;
        while (got < 5 && System.nanoTime() < deadline) {
            r.sync();
            for (int j = r.head(); j != r.tail(); j = r.nextSlot(j)) {
                assertEquals(1000 + got, readSeq(r, j));
                got++;
            }
            r.advanceTo(r.tail());
            t.sync();
        }
        assertEquals(5, got);
        NicStats sent = ((NicPort) f.tx()).stats();
        NicStats received = ((NicPort) f.rx()).stats();
        assertEquals(5, sent.txPackets(), sent.toString());
        assertEquals(5, received.rxPackets(), received.toString());
        assertEquals(0, received.rxDrops(), received.toString());
    }
}
