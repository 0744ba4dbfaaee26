package io.jnetmap.core;

/** The ring contract on the core's loopback backend (sender and receiver are one port). */
class LoopbackRingContractTest extends RingContractTest {
    @Override
    protected Fixture open(int slots) {
        LoopbackPort p = LoopbackPort.open("netmap:loop0", slots, 8);
        return new Fixture() {
            @Override
            public Port tx() {
                return p;
            }

            @Override
            public Port rx() {
                return p;
            }

            @Override
            public void close() {
                p.close();
            }
        };
    }

    @Override
    protected boolean zeroCopy() {
        return true;
    }
}
