package io.jnetmap.core.nic;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.core.RingContractTest;
import io.jnetmap.sys.NetNamespace;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * netmap's ring contract on NIC ports: the sender is one end of a veth pair, the receiver the other,
 * each in its own network namespace, both opened with the backend of the subclass. Needs root.
 */
abstract class NicRingContractTest extends RingContractTest {
    private static NetLab lab;
    private static NetLab.Veth veth;

    /** {@code xdp} or {@code packet}. */
    protected abstract String backend();

    /** What {@link Port#backend()} must start with. */
    protected abstract String expectedBackend();

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

    @SuppressWarnings("try")
    static Port openIn(String ns, String name) {
        try (NetNamespace ignored = NetNamespace.enter(ns)) {
            return Netmap.open(name);
        }
    }

    @Override
    protected Fixture open(int slots) {
        Port tx = openIn(veth.nsA(), "netmap:" + veth.a() + "@backend=" + backend() + "@conf:slots=" + slots + ",extra-bufs=8");
        Port rx;
        try {
            rx = openIn(veth.nsB(), "netmap:" + veth.b() + "@backend=" + backend() + "@conf:slots=" + slots);
        } catch (RuntimeException e) {
            tx.close();
            throw e;
        }
        return new Fixture() {
            @Override
            public Port tx() {
                return tx;
            }

            @Override
            public Port rx() {
                return rx;
            }

            @Override
            public void close() {
                try {
                    tx.close();
                } finally {
                    rx.close();
                }
            }
        };
    }

    @Override
    protected void writePacket(Ring ring, int slot, long seq) {
        Frames.write(ring, slot, Frames.mac(veth.macB()), Frames.mac(veth.macA()), seq, packetLength());
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
