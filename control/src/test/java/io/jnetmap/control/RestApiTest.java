package io.jnetmap.control;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.vale.SwitchPort;
import io.jnetmap.vale.ValeSwitch;
import io.jnetmap.vale.ValeSwitches;
import io.jnetmap.vale.ctl.Command;
import io.jnetmap.vale.ctl.SwitchFileLayout;
import io.jnetmap.vale.ctl.ValeCtl;
import io.jnetmap.vale.lookup.FlowCache;
import io.jnetmap.vale.lookup.LearningBridge;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every endpoint of the REST API with good and bad input, against a switch hosted in the test. */
class RestApiTest {
    private static final AtomicInteger N = new AtomicInteger();
    private String name;
    private ValeSwitch sw;
    private ControlServer server;
    private Http http;

    static String unique(String prefix) {
        return prefix + ProcessHandle.current().pid() + "_" + N.incrementAndGet();
    }

    @BeforeEach
    void start() {
        name = unique("valec");
        sw = ValeSwitches.create(name, new LearningBridge());
        server = ControlServer.start("127.0.0.1", 0, null, List.of(sw));
        http = new Http(server.url());
    }

    @AfterEach
    void stop() {
        server.close();
        sw.close();
    }

    private String base() {
        return "/api/v1/switches/" + name;
    }

    private static void assertError(int status, Http.Response r, String contains) {
        assertEquals(status, r.status(), r.body());
        assertTrue(r.contentType().startsWith("application/json"), r.contentType());
        JsonObject j = (JsonObject) r.json();
        assertTrue(j.getString("error").contains(contains), j.getString("error"));
        assertFalse(r.body().contains("\tat "), "no stack trace: " + r.body());
    }

    @Test
    void switchesAndPorts() {
        Http.Response r = http.get("/api/v1/switches");
        assertEquals(200, r.status());
        JsonArray a = (JsonArray) r.json();
        assertEquals(name, a.getJsonObject(0).getString("name"));
        assertEquals("learning-bridge", a.getJsonObject(0).getJsonObject("lookup").getString("module"));

        assertEquals(201, http.call("POST", base() + "/ports", "{\"name\":\"p\"}").status());
        assertTrue(sw.port("p").isPresent(), "the persistent port exists");
        JsonObject sj = (JsonObject) http.get(base()).json();
        assertEquals(1, sj.getInteger("portCount"));
        assertEquals("p", sj.getJsonArray("ports").getJsonObject(0).getString("name"));
        JsonObject pj = (JsonObject) http.get(base() + "/ports/p").json();
        assertEquals(0L, pj.getJsonObject("counters").getLong("tx.packets"));
        assertEquals(1, ((JsonArray) http.get(base() + "/ports").json()).size());

        assertError(409, http.call("POST", base() + "/ports", "{\"name\":\"p\"}"), "already has a port");
        Http.Response cr = http.call("POST", base() + "/ports", "{\"name\":\"g\",\"conf\":\"tx-slots=256,rx-slots=512\"}");
        assertEquals(201, cr.status(), cr.body());
        try (Port g = Netmap.open(name + ":g")) {
            assertEquals(256, g.txRing(0).numSlots());
            assertEquals(512, g.rxRing(0).numSlots());
        }
        assertEquals(200, http.call("DELETE", base() + "/ports/g", null).status());
        assertError(400, http.call("POST", base() + "/ports", "{\"name\":\"g\",\"conf\":\"tx-slots=1;rm\"}"), "conf=");
        assertError(400, http.call("POST", base() + "/ports", "{\"name\":\"g\",\"conf\":\"wheels=4\"}"), "wheels");
        assertError(400, http.call("POST", base() + "/ports", "{\"name\":\"q\",\"colour\":\"red\"}"), "unknown field \"colour\"");
        assertError(400, http.call("POST", base() + "/ports", "{\"name\":7}"), "expected: a string");
        assertError(400, http.call("POST", base() + "/ports", "{\"name\":"), "not JSON");
        assertError(400, http.call("POST", base() + "/ports", "[1,2]"), "expected: a JSON object");
        assertError(400, http.call("POST", base() + "/ports", ""), "no request body");
        assertError(400, http.call("POST", base() + "/ports", "{\"name\":\"a:b\"}"), "without ':'");
        assertError(400, http.call("POST", base() + "/ports", "{\"name\":\"x\",\"attach\":\"netmap:nosuchif0\"}"), "nosuchif0");
        assertError(404, http.get("/api/v1/switches/vale_nope"), "no switch");
        assertError(404, http.get(base() + "/ports/nope"), "no port \"nope\"");
        assertError(404, http.get("/api/v1/nothing"), "no resource");
        assertError(404, http.get(base() + "/frobs"), "no resource");
        assertError(405, http.call("PATCH", base() + "/ports", "{}"), "not allowed");
        assertError(413, http.call("POST", base() + "/ports", "{\"name\":\"" + "x".repeat(70_000) + "\"}"), "at most");

        // back-pressure
        assertEquals(false, ((JsonObject) http.get(base() + "/ports/p/backpressure").json()).getBoolean("enabled"));
        assertEquals(200, http.call("PUT", base() + "/ports/p/backpressure", "{\"enabled\":true}").status());
        assertTrue(sw.port("p").orElseThrow().backPressure());
        assertError(400, http.call("PUT", base() + "/ports/p/backpressure", "{\"enabled\":\"yes\"}"), "true or false");
        assertError(404, http.call("PUT", base() + "/ports/zz/backpressure", "{\"enabled\":true}"), "no port");

        // attach a pipe end, detach it, remove the persistent port
        Http.Response at = http.call("POST", base() + "/ports", "{\"name\":\"pp\",\"attach\":\"" + name + "pipe{1\"}");
        assertEquals(201, at.status(), at.body());
        assertEquals("attached", ((JsonObject) http.get(base() + "/ports/pp").json()).getString("kind"));
        assertEquals(200, http.call("DELETE", base() + "/ports/pp", null).status());
        assertFalse(sw.port("pp").isPresent());
        assertEquals(200, http.call("DELETE", base() + "/ports/p", null).status());
        assertFalse(sw.port("p").isPresent());
        assertError(404, http.call("DELETE", base() + "/ports/p", null), "no port");
    }

    @Test
    void createAndRemoveSwitches() {
        String n1 = unique("valecs");
        Http.Response r = http.call("POST", "/api/v1/switches", "{\"name\":\"" + n1 + "\"}");
        assertEquals(201, r.status(), r.body());
        assertEquals(n1, ((JsonObject) r.json()).getString("name"));
        assertEquals("learning-bridge", ((JsonObject) r.json()).getJsonObject("lookup").getString("module"));
        ValeSwitch made = ValeSwitches.get(n1).orElseThrow();
        try {
            assertTrue(made.isExplicit(), "it stays without ports");
            assertTrue(((JsonArray) http.get("/api/v1/switches").json()).stream()
                    .anyMatch(j -> ((JsonObject) j).getString("name").equals(n1)));
            assertError(409, http.call("POST", "/api/v1/switches", "{\"name\":\"" + n1 + "\"}"), "already exists");
            assertError(409, http.call("POST", "/api/v1/switches", "{\"name\":\"" + name + "\"}"), "already exists");
            // a port of it is served at once, and an open VALE port keeps the switch
            assertEquals(201, http.call("POST", "/api/v1/switches/" + n1 + "/ports", "{\"name\":\"p\"}").status());
            try (Port p = Netmap.open(n1 + ":p")) {
                assertError(409, http.call("DELETE", "/api/v1/switches/" + n1, null), "open port");
                assertTrue(ValeSwitches.get(n1).isPresent());
            }
            Http.Response d = http.call("DELETE", "/api/v1/switches/" + n1, null);
            assertEquals(200, d.status(), d.body());
            assertEquals(n1, ((JsonObject) d.json()).getString("removed"));
            assertFalse(ValeSwitches.get(n1).isPresent(), "the switch is gone");
            assertFalse(made.statsFile().map(Files::exists).orElse(false), "its counters file is gone");
            assertError(404, http.call("DELETE", "/api/v1/switches/" + n1, null), "no switch");
            assertError(404, http.get("/api/v1/switches/" + n1), "no switch");
        } finally {
            made.close();
        }

        String n2 = unique("valecs");
        r = http.call("POST", "/api/v1/switches", "{\"name\":\"" + n2 + "\",\"lookup\":\"l3-router\",\"flowCache\":true}");
        assertEquals(201, r.status(), r.body());
        try {
            JsonObject lk = ((JsonObject) http.get("/api/v1/switches/" + n2 + "/lookup").json());
            assertEquals("l3-router", lk.getString("module"));
            assertEquals(true, lk.getBoolean("flowCache"));
        } finally {
            assertEquals(200, http.call("DELETE", "/api/v1/switches/" + n2, null).status());
        }

        assertError(400, http.call("POST", "/api/v1/switches", "{\"name\":\"sw0\"}"), "expected: \"vale\"");
        assertError(400, http.call("POST", "/api/v1/switches", "{\"name\":\"vale-x\"}"), "name=vale-x");
        assertError(400, http.call("POST", "/api/v1/switches", "{\"name\":\"vale" + "x".repeat(28) + "\"}"), "up to 27");
        assertError(400, http.call("POST", "/api/v1/switches", "{\"name\":\"vale9\",\"lookup\":\"ospf\"}"), "expected: learning-bridge or l3-router");
        assertError(400, http.call("POST", "/api/v1/switches", "{\"name\":\"vale9\",\"ports\":3}"), "unknown field \"ports\"");
        assertError(400, http.call("POST", "/api/v1/switches", "{\"lookup\":\"l3-router\"}"), "missing field \"name\"");
        assertError(400, http.call("POST", "/api/v1/switches", "{\"name\":\"vale9\",\"flowCache\":1}"), "true or false");
        assertError(400, http.call("POST", "/api/v1/switches", "nope"), "not JSON");
        assertError(405, http.call("PUT", "/api/v1/switches", "{}"), "not allowed");
        assertError(405, http.call("POST", base(), "{}"), "not allowed");
        assertFalse(ValeSwitches.get("vale9").isPresent(), "no refused request made a switch");
    }

    @Test
    void openVirtualPortIsNotRemoved() {
        try (Port a = Netmap.open(name + ":a")) {
            assertError(409, http.call("DELETE", base() + "/ports/a", null), "");
            assertTrue(sw.port("a").isPresent());
        }
    }

    @Test
    void lookupRoutesAndMacTable() throws Exception {
        assertError(409, http.get(base() + "/routes"), "expected: l3-router");
        // the learning table
        try (Port a = Netmap.open(name + ":a"); Port b = Netmap.open(name + ":b")) {
            send(a, 0x02000000000bL, 0x02000000000aL, 3);
            JsonObject mt = (JsonObject) http.get(base() + "/mac-table").json();
            assertEquals(1, mt.getInteger("size"), mt.encode());
            assertEquals("02:00:00:00:00:0a", mt.getJsonArray("entries").getJsonObject(0).getString("mac"));
            assertEquals("a", mt.getJsonArray("entries").getJsonObject(0).getString("port"));
            assertEquals(300.0, ((JsonObject) http.get(base() + "/mac-table/aging").json()).getDouble("seconds"));
            assertEquals(200, http.call("DELETE", base() + "/mac-table", null).status());
            assertEquals(0, ((JsonObject) http.get(base() + "/mac-table").json()).getInteger("size"));
            assertEquals(200, http.call("PUT", base() + "/mac-table/aging", "{\"seconds\":30}").status());
            assertEquals(Duration.ofSeconds(30), ((LearningBridge) sw.lookup()).age());
            assertError(400, http.call("PUT", base() + "/mac-table/aging", "{\"seconds\":-1}"), "expected: a number");
            assertError(400, http.call("PUT", base() + "/mac-table/aging", "{\"secs\":1}"), "unknown field");
        }
        // the lookup module
        assertError(400, http.call("PUT", base() + "/lookup", "{\"module\":\"ospf\"}"), "expected: learning-bridge or l3-router");
        Http.Response r = http.call("PUT", base() + "/lookup", "{\"module\":\"l3-router\",\"flowCache\":true}");
        assertEquals(200, r.status(), r.body());
        assertEquals("l3-router", ((JsonObject) http.get(base() + "/lookup").json()).getString("module"));
        assertEquals(true, ((JsonObject) http.get(base() + "/lookup").json()).getBoolean("flowCache"));
        assertError(409, http.get(base() + "/mac-table"), "expected: learning-bridge");
        // routes
        try (Port b = Netmap.open(name + ":b"); Port c = Netmap.open(name + ":c")) {
            r = http.call("POST", base() + "/routes", "{\"prefix\":\"10.1.2.3/16\",\"port\":\"b\",\"mac\":\"02:00:00:00:00:0b\"}");
            assertEquals(201, r.status(), r.body());
            assertEquals("10.1.0.0/16", ((JsonObject) r.json()).getString("prefix"), "the prefix is masked");
            assertError(404, http.call("POST", base() + "/routes", "{\"prefix\":\"10.2.0.0/16\",\"port\":\"zz\",\"mac\":\"02:00:00:00:00:0b\"}"), "no port");
            assertError(400, http.call("POST", base() + "/routes", "{\"prefix\":\"10.2.0.0/33\",\"port\":\"b\",\"mac\":\"02:00:00:00:00:0b\"}"), "0..32");
            assertError(400, http.call("POST", base() + "/routes", "{\"prefix\":\"10.2.0.0/8\",\"port\":\"b\",\"mac\":\"bad\"}"), "mac=bad");
            assertError(400, http.call("POST", base() + "/routes", "{\"prefix\":\"10.2.0.0/8\",\"port\":\"b\"}"), "missing field \"mac\"");
            JsonArray routes = ((JsonObject) http.get(base() + "/routes").json()).getJsonArray("routes");
            assertEquals(1, routes.size());
            r = http.call("PUT", base() + "/routes", "{\"routes\":[{\"prefix\":\"10.3.0.0/16\",\"port\":\"c\",\"mac\":\"02:00:00:00:00:0c\"},"
                    + "{\"prefix\":\"10.4.0.0/24\",\"port\":\"b\",\"mac\":\"02:00:00:00:00:0b\"}]}");
            assertEquals(200, r.status(), r.body());
            routes = ((JsonObject) http.get(base() + "/routes").json()).getJsonArray("routes");
            assertEquals(2, routes.size());
            var router = Hosted.router(sw);
            assertEquals(0, router.route(io.jnetmap.vale.lookup.L3Router.parseIpv4("10.1.0.1")), "replaced: the old route is gone");
            assertTrue(router.route(io.jnetmap.vale.lookup.L3Router.parseIpv4("10.3.9.9")) > 0);
            assertError(400, http.call("PUT", base() + "/routes", "{\"routes\":[{\"prefix\":\"10.3.0.0/16\"}]}"), "routes[0]");
            assertEquals(2, ((JsonObject) http.get(base() + "/routes").json()).getJsonArray("routes").size(), "a refused replace changes nothing");
            assertEquals(200, http.call("DELETE", base() + "/routes/10.3.0.0/16", null).status());
            assertError(404, http.call("DELETE", base() + "/routes/10.3.0.0/16", null), "no route");
            assertError(400, http.call("DELETE", base() + "/routes/10.3.0/16", null), "a.b.c.d");
            assertEquals(0, router.route(io.jnetmap.vale.lookup.L3Router.parseIpv4("10.3.9.9")));

            // routes set outside the API (a program through the router, as vale-ctl --host does) are listed too
            router.addRoute("192.168.7.0/24", router.nextHop("c", 0x02000000000cL));
            routes = ((JsonObject) http.get(base() + "/routes").json()).getJsonArray("routes");
            assertEquals(2, routes.size(), routes.encode());
            assertEquals(new JsonObject().put("prefix", "10.4.0.0/24").put("port", "b").put("mac", "02:00:00:00:00:0b"), routes.getJsonObject(0));
            assertEquals(new JsonObject().put("prefix", "192.168.7.0/24").put("port", "c").put("mac", "02:00:00:00:00:0c"), routes.getJsonObject(1));
            assertTrue(http.get("/metrics").body().contains("jnetmap_switch_routes{switch=\"" + name + "\"} 2\n"));
            // and a replace over the API replaces them as well
            r = http.call("PUT", base() + "/routes", "{\"routes\":[{\"prefix\":\"10.4.0.0/24\",\"port\":\"c\",\"mac\":\"02:00:00:00:00:0c\"}]}");
            assertEquals(200, r.status(), r.body());
            assertEquals(1, router.routes());
            assertEquals(0, router.route(io.jnetmap.vale.lookup.L3Router.parseIpv4("192.168.7.1")));
            assertEquals("c", router.routeList().get(0).port());
            assertError(404, http.call("DELETE", base() + "/routes/192.168.7.0/24", null), "no route");
            assertEquals(200, http.call("DELETE", base() + "/routes/10.4.0.0/24", null).status());
            assertEquals(0, ((JsonObject) http.get(base() + "/routes").json()).getJsonArray("routes").size());
        }
    }

    @Test
    void openApiAndPage() {
        Http.Response r = http.get("/api/v1/openapi.json");
        assertEquals(200, r.status());
        JsonObject doc = (JsonObject) r.json();
        assertEquals("3.0.3", doc.getString("openapi"));
        assertTrue(doc.getJsonObject("paths").containsKey("/api/v1/switches/{switch}/routes"));
        assertTrue(doc.getJsonObject("paths").getJsonObject("/api/v1/switches").containsKey("post"), "switch creation is documented");
        assertTrue(doc.getJsonObject("paths").getJsonObject("/api/v1/switches/{switch}").containsKey("delete"), "switch removal is documented");
        r = http.get("/");
        assertEquals(200, r.status());
        assertTrue(r.body().contains("<script src=\"/app.js\">"));
        assertEquals(200, http.get("/app.js").status());
        assertEquals(200, http.get("/style.css").status());
        assertError(404, http.get("/nothing.html"), "no resource");
    }

    @Test
    void metricsEqualValeCtlAtRest() {
        try (Port a = Netmap.open(name + ":a"); Port b = Netmap.open(name + ":b")) {
            send(a, 0xffffffffffffL, 0x02000000000aL, 5);
            send(b, 0x02000000000aL, 0x02000000000bL, 3);
            send(a, 0x02000000000bL, 0x02000000000aL, 2);
            Http.Response r = http.get("/metrics");
            assertEquals(200, r.status());
            assertTrue(r.contentType().startsWith("text/plain; version=0.0.4"), r.contentType());
            ValeCtl.SwitchInfo info = ValeCtl.find(name).getFirst();
            for (ValeCtl.PortInfo p : info.ports()) {
                String l = "{switch=\"" + name + "\",port=\"" + p.name() + "\"}";
                assertTrue(r.body().contains("jnetmap_port_receive_packets_total" + l + " " + p.rx(SwitchFileLayout.RX_PACKETS) + "\n"), r.body());
                assertTrue(r.body().contains("jnetmap_port_transmit_packets_total" + l + " " + p.tx(SwitchFileLayout.TX_PACKETS) + "\n"));
                assertTrue(r.body().contains("jnetmap_port_transmit_bytes_total" + l + " " + p.tx(SwitchFileLayout.TX_BYTES) + "\n"));
                assertTrue(r.body().contains("jnetmap_port_receive_bytes_total" + l + " " + p.rx(SwitchFileLayout.RX_BYTES) + "\n"));
            }
            assertEquals(7, info.ports().stream().filter(p -> p.name().equals("a")).findFirst().orElseThrow().tx(SwitchFileLayout.TX_PACKETS));
            // nobody read the receive rings: each holds what vale-ctl says the port received (b: 5 + 2, a: 3)
            for (ValeCtl.PortInfo p : info.ports()) {
                String l = "{switch=\"" + name + "\",port=\"" + p.name() + "\"}";
                assertTrue(r.body().contains("jnetmap_port_receive_ring_used_slots" + l + " " + p.rx(SwitchFileLayout.RX_PACKETS) + "\n"), r.body());
                assertTrue(r.body().contains("jnetmap_port_receive_ring_size_slots" + l + " " + (a.rxRing(0).numSlots() - 1) + "\n"), r.body());
            }
            assertTrue(r.body().contains("jnetmap_port_receive_ring_used_slots{switch=\"" + name + "\",port=\"b\"} 7\n"), r.body());
            Ring br = b.rxRing(0);
            br.sync();
            assertEquals(7, io.jnetmap.core.RingIndex.distance(br.head(), br.tail(), br.numSlots()));
            br.advanceTo(br.tail()); // b takes its packets: its ring is empty
            assertTrue(http.get("/metrics").body().contains("jnetmap_port_receive_ring_used_slots{switch=\"" + name + "\",port=\"b\"} 0\n"));
            Http.Response om = http.call("GET", "/metrics", null, "application/openmetrics-text; version=1.0.0");
            assertTrue(om.contentType().startsWith("application/openmetrics-text"), om.contentType());
            assertTrue(om.body().endsWith("# EOF\n"));
            assertTrue(om.body().contains("# TYPE jnetmap_port_receive_packets counter\n"));
        }
    }

    @Test
    void flowCacheHitsAndPipesInMetrics() {
        assertEquals(200, http.call("PUT", base() + "/lookup", "{\"module\":\"learning-bridge\",\"flowCache\":true}").status());
        FlowCache fc = (FlowCache) sw.lookup();
        try (Port a = Netmap.open(name + ":a"); Port b = Netmap.open(name + ":b");
             Port m = Netmap.open(name + "pipe{3"); Port s = Netmap.open(name + "pipe}3")) {
            send(b, 0xffffffffffffL, 0x02000000000bL, 1); // a learns where b is
            send(a, 0x02000000000bL, 0x02000000000aL, 20); // one flow: a few misses, the rest hits
            send(a, 0x02000000000bL, 0x02000000000aL, 20);
            assertEquals(41, fc.hits() + fc.misses(), "every lookup is a hit or a miss");
            assertTrue(fc.hits() >= 30, "hits=" + fc.hits());
            String metrics = http.get("/metrics").body();
            String l = "{switch=\"" + name + "\"} ";
            assertTrue(metrics.contains("jnetmap_switch_flow_cache_hits_total" + l + fc.hits() + "\n"), metrics);
            assertTrue(metrics.contains("jnetmap_switch_flow_cache_misses_total" + l + fc.misses() + "\n"), metrics);
            JsonObject lk = (JsonObject) http.get(base() + "/lookup").json();
            assertEquals(fc.hits(), lk.getLong("flowCacheHits"));
            assertEquals(fc.misses(), lk.getLong("flowCacheMisses"));

            // a pipe of this process: 4 packets sent, seen by the other end, not released yet
            send(m, 0x02000000000bL, 0x02000000000aL, 4);
            s.rxRing(0).sync();
            metrics = http.get("/metrics").body();
            String ml = "{pipe=\"" + m.name() + "\"} ";
            String sl = "{pipe=\"" + s.name() + "\"} ";
            assertTrue(metrics.contains("jnetmap_pipe_transmit_ring_used_slots" + ml + "4\n"), metrics);
            assertTrue(metrics.contains("jnetmap_pipe_receive_ring_used_slots" + sl + "4\n"), metrics);
            assertTrue(metrics.contains("jnetmap_pipe_receive_ring_used_slots" + ml + "0\n"), metrics);
            assertTrue(metrics.contains("jnetmap_pipe_transmit_ring_size_slots" + ml + (m.txRing(0).numSlots() - 1) + "\n"), metrics);
            assertTrue(metrics.contains("jnetmap_pipe_peer_open" + ml + "1\n"), metrics);
            assertTrue(metrics.contains("jnetmap_pipe_peer_faults_total" + sl + "0\n"), metrics);
            Ring sr = s.rxRing(0);
            sr.advanceTo(sr.tail());
            sr.sync(); // released: the sender gets its slots back at its next sync
            m.txRing(0).sync();
            metrics = http.get("/metrics").body();
            assertTrue(metrics.contains("jnetmap_pipe_transmit_ring_used_slots" + ml + "0\n"), metrics);
            assertTrue(metrics.contains("jnetmap_pipe_receive_ring_used_slots" + sl + "0\n"), metrics);
        }
    }

    @Test
    void mailboxRequestsGoThroughTheSameQueue() {
        assertEquals("created persistent port " + name + ":m",
                ValeCtl.remote(name, Command.NEW_PORT, name + ":m", Duration.ofSeconds(10)));
        assertTrue(((JsonArray) http.get(base() + "/ports").json()).stream().anyMatch(p -> ((JsonObject) p).getString("name").equals("m")));
    }

    @Test
    void tokenAndAddress(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ControlServer.start("0.0.0.0", 0, null, List.of(sw)));
        assertTrue(e.getMessage().contains("not loopback"), e.getMessage());
        Path tf = dir.resolve("token");
        Files.writeString(tf, "s3cret-token-0123456789\n");
        try (ControlServer s = ControlServer.start("127.0.0.1", 0, tf, List.of(sw))) {
            Http h = new Http(s.url());
            assertEquals(200, h.get("/api/v1/switches").status(), "reading needs no token");
            assertError(401, h.call("POST", base() + "/ports", "{\"name\":\"t\"}"), "Bearer");
            assertError(401, h.token("s3cret-token-0123456788").call("POST", base() + "/ports", "{\"name\":\"t\"}"), "Bearer");
            assertEquals(201, h.token("s3cret-token-0123456789").call("POST", base() + "/ports", "{\"name\":\"t\"}").status());
        }
    }

    /** Sends {@code n} frames from {@code p} (EtherType 0x88b5, 60 bytes). */
    /**
     * A thread sending {@code rate} frames a second from {@code a} (to 02:..:0b from 02:..:0a) until
     * {@code stop}; a failure goes to {@code failed}.
     */
    static Thread pacedSender(Port a, long rate, java.util.concurrent.atomic.AtomicBoolean stop,
                              java.util.concurrent.atomic.AtomicReference<Throwable> failed) {
        return Thread.ofPlatform().start(() -> {
            try {
                long start = System.nanoTime();
                long sent = 0;
                while (!stop.get()) {
                    long due = (System.nanoTime() - start) * rate / 1_000_000_000L;
                    if (sent < due) {
                        int n = (int) Math.min(64, due - sent);
                        send(a, 0x02000000000bL, 0x02000000000aL, n);
                        sent += n;
                    } else {
                        Thread.sleep(1);
                    }
                }
            } catch (Throwable e) {
                failed.set(e);
            }
        });
    }

    /** A thread that takes whatever reaches {@code b}'s RX ring 0, until {@code stop}. */
    static Thread drainer(Port b, java.util.concurrent.atomic.AtomicBoolean stop) {
        return Thread.ofPlatform().start(() -> {
            while (!stop.get()) {
                var r = b.rxRing(0);
                r.sync();
                r.advanceTo(r.tail());
                r.sync();
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

    static void send(Port p, long dst, long src, int n) {
        Ring t = p.txRing(0);
        int i = t.head();
        for (int k = 0; k < n; k++) {
            MemorySegment m = t.memory();
            long off = t.bufOffset(i);
            for (int b = 0; b < 6; b++) {
                m.set(ValueLayout.JAVA_BYTE, off + b, (byte) (dst >>> (40 - 8 * b)));
                m.set(ValueLayout.JAVA_BYTE, off + 6 + b, (byte) (src >>> (40 - 8 * b)));
            }
            m.set(ValueLayout.JAVA_BYTE, off + 12, (byte) 0x88);
            m.set(ValueLayout.JAVA_BYTE, off + 13, (byte) 0xb5);
            t.setLen(i, 60);
            i = t.nextSlot(i);
        }
        t.advanceTo(i);
        t.sync();
    }

    static long count(SwitchPort p, int c) {
        return p.txCounter(c);
    }
}
