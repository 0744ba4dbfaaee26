package io.jnetmap.vale;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.core.RingContractTest;
import org.junit.jupiter.api.Nested;


/**
 * netmap's ring contract on VALE ports: a sender {@code valeN:a} and a receiver {@code valeN:b} on a
 * fresh switch, in copy mode (each port its own region), swap mode ({@code b} opened with
 * {@code @share=} a's region) and with back-pressure on the sender. Frames are broadcast: the
 * receiver is the only other port, so they reach it (by index swap when the regions are shared).
 */
class ValeRingContractTest {

    /** Frames with Ethernet addresses the learning bridge floods (broadcast destination). */
    abstract static class OnVale extends RingContractTest {
        abstract String senderOptions();

        abstract String receiverOptions(String sw);

        @Override
        protected Fixture open(int slots) {
            String sw = Names.unique("valect");
            String rings = "@conf:tx-slots=" + slots + ",rx-slots=" + (2 * slots + 1);
            Port a = Netmap.open(sw + ":a" + rings + ",extra-bufs=8" + senderOptions());
            Port b;
            try {
                // the receiver holds two TX rings' worth: with VALE's drop semantics, packets the suite
                // queues beyond a full receiver would otherwise be dropped, not delayed
                b = Netmap.open(sw + ":b" + rings + receiverOptions(sw));
            } catch (RuntimeException e) {
                a.close();
                throw e;
            }
            return Fixture.of(a, b);
        }

        @Override
        protected void writePacket(Ring ring, int slot, long seq) {
            super.writePacket(ring, slot, seq);
            Frames.ethernet(ring.memory(), ring.bufOffset(slot), Frames.BROADCAST, 0x020000000001L, 0x88b5);
        }
    }

    @Nested
    class Copy extends OnVale {
        @Override
        String senderOptions() {
            return "";
        }

        @Override
        String receiverOptions(String sw) {
            return "";
        }
    }

    @Nested
    class Swap extends OnVale {
        @Override
        String senderOptions() {
            return "";
        }

        @Override
        String receiverOptions(String sw) {
            return "@share=" + sw + ":a";
        }

        @Override
        protected boolean zeroCopy() {
            return true;
        }
    }

    @Nested
    class BackPressure extends OnVale {
        @Override
        String senderOptions() {
            return "@backpressure=on";
        }

        @Override
        String receiverOptions(String sw) {
            return "";
        }
    }
}
