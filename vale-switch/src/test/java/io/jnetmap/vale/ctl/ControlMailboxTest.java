package io.jnetmap.vale.ctl;

import io.jnetmap.core.RegionLayout;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Replies cross the mailbox whole when they fit its 512-byte field, cut at a character boundary when not. */
class ControlMailboxTest {
    private static String answered(String reply) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(SwitchFileLayout.CTL_REPLY_OFFSET + SwitchFileLayout.CTL_REPLY_LENGTH, 8);
            ControlMailbox.answer(m, new ControlMailbox.Request(1, Command.ATTACH.code(), "", 1), false, reply);
            return RegionLayout.readText(m, SwitchFileLayout.CTL_REPLY_OFFSET, SwitchFileLayout.CTL_REPLY_LENGTH);
        }
    }

    @Test
    void aReplyOfFourHundredCharactersArrivesWhole() {
        String hint = "interface veth9 does not exist in the network namespace of the switch's host (pid 4242); ".repeat(4)
                + "create it there or run the host in the interface's namespace";
        assertTrue(hint.length() > 400);
        assertEquals(hint, answered(hint));
    }

    @Test
    void aReplyTooLongIsCutAtACharacterBoundary() {
        String s = "é".repeat(600); // two bytes each
        String got = answered(s);
        assertTrue(got.endsWith("..."), got);
        assertTrue(got.getBytes(StandardCharsets.UTF_8).length <= SwitchFileLayout.CTL_REPLY_LENGTH - 1);
        assertEquals("é".repeat(254) + "...", got);
    }
}
