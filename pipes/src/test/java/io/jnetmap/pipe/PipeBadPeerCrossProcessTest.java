package io.jnetmap.pipe;

import io.jnetmap.core.Ring;
import io.jnetmap.poll.Pollable;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A peer process that writes garbage into the shared rings is cut off; this process neither crashes nor writes outside the region. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PipeBadPeerCrossProcessTest {
    @Test
    void aVandalInAnotherProcessIsCutOff() throws Exception {
        String p = Pipes.uniqueParent();
        try (ChildJvm child = new ChildJvm(PipeForwarderChild.class);
             PipePort tx = Pipes.open(p + "{1@conf:pipes=1,slots=32")) {
            assertEquals("done", child.ask("vandal " + p + "}1"));
            assertTrue(tx.peerOpen());
            Ring t = tx.txRing(0);
            int i = t.head();
            t.memory().set(JAVA_LONG_UNALIGNED, t.bufOffset(i), 42L);
            t.setSlot(i, 60, 0);
            t.advanceTo(t.nextSlot(i));
            PipeBrokenException e = assertThrows(PipeBrokenException.class, t::sync);
            assertTrue(e.getMessage().contains("(pid " + child.pid() + ")"), e.getMessage());
            assertTrue(e.getMessage().contains("bufIdx=4294967295"), e.getMessage());
            assertEquals(1, tx.peerFaults());
            assertEquals(Pollable.ERR, tx.pollable().pollNow(Pollable.OUT));
            assertEquals("closed", child.ask("close"));
            assertEquals(0, child.finish());
        }
        assertFalse(Pipes.regionExists(p), "the region went away with its last user, garbage and all");
    }
}
