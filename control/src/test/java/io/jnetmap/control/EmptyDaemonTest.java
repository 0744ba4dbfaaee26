package io.jnetmap.control;

import io.jnetmap.vale.ValeSwitches;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A daemon that hosts no switch (so no housekeeping thread drains the control queue) creates one over
 * REST, removes it, and creates one again.
 */
class EmptyDaemonTest {
    @Test
    void createsTheFirstSwitch() {
        assertEquals(List.of(), ValeSwitches.switches(), "precondition: this process hosts no switch (an earlier test leaked one)");
        try (ControlServer server = ControlServer.start("127.0.0.1", 0, null, List.of())) {
            Http http = new Http(server.url());
            assertEquals(0, ((JsonArray) http.get("/api/v1/switches").json()).size());
            for (int round = 0; round < 2; round++) {
                String name = RestApiTest.unique("valee");
                Http.Response r = http.call("POST", "/api/v1/switches", "{\"name\":\"" + name + "\"}");
                assertEquals(201, r.status(), r.body());
                assertTrue(ValeSwitches.get(name).isPresent());
                assertEquals(1, ((JsonArray) http.get("/api/v1/switches").json()).size());
                r = http.call("POST", "/api/v1/switches/" + name + "/ports", "{\"name\":\"p\"}");
                assertEquals(201, r.status(), "the new switch takes requests through the control queue: " + r.body());
                r = http.call("DELETE", "/api/v1/switches/" + name, null);
                assertEquals(200, r.status(), r.body());
                assertEquals(name, ((JsonObject) r.json()).getString("removed"));
                assertEquals(List.of(), ValeSwitches.switches());
            }
        } finally {
            ValeSwitches.switches().forEach(io.jnetmap.vale.ValeSwitch::close);
        }
    }
}
