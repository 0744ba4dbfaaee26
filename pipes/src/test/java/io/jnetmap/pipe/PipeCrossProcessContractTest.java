package io.jnetmap.pipe;

import io.jnetmap.core.RingContractTest;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * netmap's ring contract on pipe ends whose peers live in another process: this JVM sends on one pipe,
 * a second JVM forwards (zero copy, sleeping in a Poller between bursts) onto a second pipe, and this
 * JVM receives there. Both the sending and the receiving end under test have a remote peer; the two
 * nested suites swap master and slave roles.
 */
class PipeCrossProcessContractTest {
    static ChildJvm child;
    static final AtomicLong WAKEUPS = new AtomicLong();
    static final AtomicLong WAKEUP_FAILURES = new AtomicLong();

    @BeforeAll
    static void startChild() throws Exception {
        child = new ChildJvm(PipeForwarderChild.class);
    }

    @AfterAll
    static void stopChild() throws Exception {
        try {
            assertEquals(0, child.finish(), "the forwarding JVM saw no error");
            assertTrue(WAKEUPS.get() > 0, "this JVM woke the sleeping forwarder in the other process");
            assertEquals(0, WAKEUP_FAILURES.get(), "every wake-up descriptor was obtained across processes");
        } finally {
            child.close();
        }
    }

    /** This JVM: {@code tx} end of pipe 1 and {@code rx} end of pipe 2; the child joins the other two ends. */
    static RingContractTest.Fixture open(int slots, boolean txIsMaster) throws Exception {
        String p = Pipes.uniqueParent();
        String tx = p + (txIsMaster ? "{1" : "}1");
        String txPeer = p + (txIsMaster ? "}1" : "{1");
        String rx = p + (txIsMaster ? "}2" : "{2");
        String rxPeer = p + (txIsMaster ? "{2" : "}2");
        PipePort t = Pipes.open(tx + "@conf:pipes=2,slots=" + slots + ",extra-bufs=8");
        PipePort r = Pipes.open(rx + "@conf:extra-bufs=8");
        assertEquals("ready", child.ask("fwd " + txPeer + " " + rxPeer));
        return new RingContractTest.Fixture() {
            @Override
            public io.jnetmap.core.Port tx() {
                return t;
            }

            @Override
            public io.jnetmap.core.Port rx() {
                return r;
            }

            @Override
            public void close() {
                t.close();
                r.close();
                WAKEUPS.addAndGet(t.wakeupsSent() + r.wakeupsSent());
                WAKEUP_FAILURES.addAndGet(t.wakeupFailures() + r.wakeupFailures());
                try {
                    assertEquals("closed", child.ask("close"));
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
                assertTrue(!Pipes.regionExists(p), "the last process to close removed the region");
            }
        };
    }

    @Nested
    class MasterSendsSlaveReceives extends RingContractTest {
        @Override
        protected Fixture open(int slots) throws Exception {
            return PipeCrossProcessContractTest.open(slots, true);
        }

        @Override
        protected boolean zeroCopy() {
            return true;
        }
    }

    @Nested
    class SlaveSendsMasterReceives extends RingContractTest {
        @Override
        protected Fixture open(int slots) throws Exception {
            return PipeCrossProcessContractTest.open(slots, false);
        }

        @Override
        protected boolean zeroCopy() {
            return true;
        }
    }
}
