package io.jnetmap.pipe;

import io.jnetmap.core.RingContractTest;

import org.junit.jupiter.api.Nested;

/** netmap's ring contract on both ends of a pipe in one process: master to slave and slave to master. */
class PipeRingContractTest {
    @Nested
    class MasterToSlave extends RingContractTest {
        @Override
        protected Fixture open(int slots) {
            String p = Pipes.uniqueParent();
            PipePort tx = Pipes.open(p + "{1@conf:pipes=1,slots=" + slots + ",extra-bufs=8");
            return RingContractTest.Fixture.of(tx, Pipes.open(p + "}1"));
        }

        @Override
        protected boolean zeroCopy() {
            return true;
        }
    }

    @Nested
    class SlaveToMaster extends RingContractTest {
        @Override
        protected Fixture open(int slots) {
            String p = Pipes.uniqueParent();
            PipePort tx = Pipes.open(p + "}7@conf:pipes=1,slots=" + slots + ",extra-bufs=8");
            return RingContractTest.Fixture.of(tx, Pipes.open(p + "{7"));
        }

        @Override
        protected boolean zeroCopy() {
            return true;
        }
    }
}
