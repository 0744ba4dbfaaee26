package io.jnetmap.core;

/** The ring contract on the core's loopback backend (sender and receiver are one port). */
class LoopbackRingContractTest extends RingContractTest {
    @Override
    protected Fixture open(int slots) {
        LoopbackPort p = LoopbackPort.open("netmap:loop0", slots, 8);
        return Fixture.of(p, p);
    }

    @Override
    protected boolean zeroCopy() {
        return true;
    }
}
