package io.jnetmap.pipe;

import io.jnetmap.core.RingLayout;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pipe words are where the published layouts say: the backend area of RingLayout, and docs/jnetmap.h for C. */
class PipeLayoutTest {
    @Test
    void pipeWordsSitOnTheirOwnBackendLines() {
        assertEquals(RingLayout.BACKEND_OFFSET, PipeLayout.PIPE_TAIL_OFFSET);
        assertEquals(RingLayout.LINE, PipeLayout.WAKE_SEQ_OFFSET - PipeLayout.PIPE_TAIL_OFFSET,
                "the peer-written tail and the owner-written wake-up words never share a cache line");
        assertTrue(PipeLayout.EVENT_FD_OFFSET + 4 <= RingLayout.SLOTS_OFFSET);
        assertEquals("pipe.vale0-a", PipeLayout.regionName("vale0:a"));
        assertEquals("pipe.pipe", PipeLayout.regionName("pipe"));
    }

    @Test
    void theCHeaderAgrees() throws Exception {
        Path header = Path.of("..", "docs", "jnetmap.h");
        Map<String, Long> defines = new HashMap<>();
        Matcher m = Pattern.compile("(?m)^#define (JNM_PIPE_\\w+) (0x[0-9a-f]+|\\d+)").matcher(Files.readString(header));
        while (m.find()) {
            defines.put(m.group(1), Long.decode(m.group(2)));
        }
        assertEquals(PipeLayout.PIPE_TAIL_OFFSET, defines.get("JNM_PIPE_TAIL_OFS"));
        assertEquals(PipeLayout.WAKE_SEQ_OFFSET, defines.get("JNM_PIPE_WAKE_SEQ_OFS"));
        assertEquals(PipeLayout.OWNER_PID_OFFSET, defines.get("JNM_PIPE_OWNER_PID_OFS"));
        assertEquals(PipeLayout.EVENT_FD_OFFSET, defines.get("JNM_PIPE_EVENT_FD_OFS"));
        assertEquals(PipeLayout.KIND_MASTER, defines.get("JNM_PIPE_KIND_MASTER").intValue());
        assertEquals(PipeLayout.KIND_SLAVE, defines.get("JNM_PIPE_KIND_SLAVE").intValue());
    }
}
