package io.jnetmap.control;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.vale.SwitchAdmin;
import io.jnetmap.vale.ValeSwitch;
import io.jnetmap.vale.ValeSwitches;
import io.jnetmap.vale.lookup.FlowCache;
import io.jnetmap.vale.lookup.LearningBridge;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The listings written straight into bytes say exactly what the JsonObject views say. */
class JsonOutTest {
    @Test
    void portsAndSwitchAreTheSameBytesAsTheJsonObjectViews() {
        String name = RestApiTest.unique("valej");
        ValeSwitch sw = ValeSwitches.create(name, new FlowCache(new LearningBridge()));
        try (Port a = Netmap.open(name + ":a"); Port b = Netmap.open(name + ":b")) {
            for (int i = 0; i < 40; i++) {
                SwitchAdmin.newPersistent(name + ":p" + i);
            }
            Ring t = a.txRing(0); // some traffic, so that counters are not all zero
            for (int i = 0; i < 5; i++) {
                int s = t.head();
                t.setLen(s, 60);
                t.memory().asSlice(t.bufOffset(s), 12).fill((byte) (i + 1));
                t.advanceTo(t.nextSlot(s));
            }
            t.sync();
            b.rxRing(0).sync();
            JsonOut o = new JsonOut(16); // grows
            RestApi.writePorts(o, sw);
            assertEquals(RestApi.portsJson(sw).encode() + "\n", o.toBuffer().toString(StandardCharsets.UTF_8));
            o.reset();
            RestApi.writeSwitch(o, sw);
            assertEquals(RestApi.switchJson(sw, true).encode() + "\n", o.toBuffer().toString(StandardCharsets.UTF_8));
        } finally {
            sw.close();
        }
    }

    @Test
    void stringsNumbersAndNesting() {
        String[] strings = {"", "a\"b\\c", "tab\there\nnl\u0001", "é ü 中文", "emoji \uD83D\uDE00", "/slash"};
        long[] numbers = {0, 7, -1, 10, 1234567890123L, Long.MAX_VALUE, Long.MIN_VALUE};
        JsonOut o = new JsonOut(1);
        o.beginObject().name("s").beginArray();
        for (String s : strings) {
            o.value(s);
        }
        o.endArray().name("n").beginArray();
        for (long v : numbers) {
            o.value(v);
        }
        o.endArray().name("b").value(true).name("f").value(false).name("null").value((String) null)
                .name("empty").beginObject().endObject().name("nested").beginArray().beginArray().endArray().beginObject().name("x").value(1).endObject().endArray()
                .endObject();
        JsonObject j = new JsonObject(o.toBuffer());
        JsonArray s = j.getJsonArray("s");
        for (int i = 0; i < strings.length; i++) {
            assertEquals(strings[i], s.getString(i));
        }
        JsonArray n = j.getJsonArray("n");
        for (int i = 0; i < numbers.length; i++) {
            assertEquals(numbers[i], n.getLong(i));
        }
        assertEquals(true, j.getBoolean("b"));
        assertEquals(false, j.getBoolean("f"));
        assertEquals(null, j.getValue("null"));
        assertEquals(new JsonObject(), j.getJsonObject("empty"));
        assertEquals("[[],{\"x\":1}]", j.getJsonArray("nested").encode());
        assertThrows(IllegalStateException.class, () -> new JsonOut(8).beginObject().toBuffer(), "an unclosed document is refused");
    }
}
