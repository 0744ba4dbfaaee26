package io.jnetmap.control;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.vale.SwitchAdmin;
import io.jnetmap.vale.ValeSwitch;
import io.jnetmap.vale.ValeSwitches;
import io.jnetmap.vale.lookup.FlowCache;
import io.jnetmap.vale.lookup.LearningBridge;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code /metrics} and the page's events, written straight into bytes, are the bytes the String and
 * JsonObject paths before them gave ({@link ReferenceOutputs}): for switches of 0, 1 and 254 ports, in
 * process and over HTTP (where they go out in reused buffers of shrinking and growing size, as the
 * REST listings do), and
 * for label values and JSON strings that need escaping.
 */
class ScrapeOutputTest {
    @Test
    void metricsAndEventsAreTheBytesOfBefore() throws Exception {
        String n0 = RestApiTest.unique("valeo");
        String n1 = RestApiTest.unique("valeo");
        String n254 = RestApiTest.unique("valeo");
        ValeSwitch sw0 = ValeSwitches.create(n0, new LearningBridge());
        ValeSwitch sw1 = ValeSwitches.create(n1, new FlowCache(new LearningBridge()));
        ValeSwitch sw254 = ValeSwitches.create(n254, new LearningBridge());
        try (Port one = Netmap.open(n1 + ":a"); Port pm = Netmap.open(n1 + "pipe{7"); Port ps = Netmap.open(n1 + "pipe}7")) {
            for (int i = 0; i < ValeSwitch.MAX_PORTS - 1; i++) {
                SwitchAdmin.newPersistent(n254 + ":p" + i);
            }
            try (Port last = Netmap.open(n254 + ":last")) {
                assertEquals(ValeSwitch.MAX_PORTS, sw254.portList().size());
                // traffic: counters not all zero, learned addresses in two tables, a packet in a ring and in a pipe
                RestApiTest.send(one, 0x02000000000bL, 0x02000000000aL, 3);
                RestApiTest.send(last, 0x02000000000bL, 0x02000000000cL, 2);
                RestApiTest.send(last, 0x02000000000cL, 0x02000000000dL, 1);
                RestApiTest.send(pm, 0x02000000000bL, 0x02000000000aL, 2);

                Metrics metrics = new Metrics();
                Events events = new Events();
                List<List<ValeSwitch>> sets = List.of(List.of(), List.of(sw0), List.of(sw1), List.of(sw254), List.of(sw0, sw1, sw254),
                        List.of(sw254, sw0));
                for (List<ValeSwitch> sws : sets) {
                    for (boolean om : new boolean[] {false, true}) {
                        String before = ReferenceOutputs.metrics(sws, om);
                        MetricsOut o = metrics.write(sws, om);
                        assertArrayEquals(before.getBytes(StandardCharsets.UTF_8), Arrays.copyOf(o.array(), o.length()),
                                "metrics of " + sws.size() + " switches, openMetrics=" + om);
                    }
                    long now = System.nanoTime();
                    String before = ReferenceOutputs.event(sws, 1234567890123L, now);
                    JsonOut e = events.write(sws, 1234567890123L, now);
                    assertArrayEquals(before.getBytes(StandardCharsets.UTF_8), Arrays.copyOf(e.array(), e.length()),
                            "event of " + sws.size() + " switches");
                }
                String all = ReferenceOutputs.metrics(List.of(sw0, sw1, sw254), false);
                assertTrue(all.contains("jnetmap_port_transmit_packets_total{switch=\"" + n254 + "\",port=\"last\"} 3\n"), all);
                assertTrue(all.contains("jnetmap_pipe_transmit_ring_used_slots{pipe=\"" + n1 + "pipe{7\"} 2\n"), all);
                JsonObject ev = new JsonObject(ReferenceOutputs.event(List.of(sw254), 1, System.nanoTime()).substring("data: ".length()));
                assertEquals(2, ev.getJsonArray("switches").getJsonObject(0).getJsonObject("macTable").getInteger("size"));
                assertEquals(ValeSwitch.MAX_PORTS, ev.getJsonArray("switches").getJsonObject(0).getJsonArray("ports").size());

                // over HTTP, at rest, through the pooled buffers: small, big, and each text page (longer) before its
                // OpenMetrics page (shorter, in the buffer the text page left)
                try (ControlServer server = ControlServer.start("127.0.0.1", 0, null, List.of(sw0))) {
                    Http http = new Http(server.url());
                    List<ValeSwitch> served = new ArrayList<>(List.of(sw0));
                    for (ValeSwitch more : new ValeSwitch[] {null, sw254, sw1}) {
                        if (more != null) {
                            server.add(more);
                            served.add(more);
                            served.sort(java.util.Comparator.comparing(ValeSwitch::name)); // the daemon lists them by name
                        }
                        for (int again = 0; again < 2; again++) {
                            for (boolean om : new boolean[] {false, true}) {
                                Http.Response r = http.call("GET", "/metrics", null, om ? "application/openmetrics-text; version=1.0.0" : null);
                                assertEquals(200, r.status());
                                assertEquals(om ? Metrics.OPENMETRICS : Metrics.TEXT, r.contentType());
                                assertEquals(ReferenceOutputs.metrics(served, om), r.body(), served.size() + " switches, openMetrics=" + om);
                            }
                            for (ValeSwitch sw : served) { // the listings go out in the same pool, in buffers the pages left
                                assertEquals(RestApi.portsJson(sw).encode() + "\n", http.get("/api/v1/switches/" + sw.name() + "/ports").body());
                                assertEquals(RestApi.switchJson(sw, true).encode() + "\n", http.get("/api/v1/switches/" + sw.name()).body());
                            }
                        }
                    }
                }
            }
        } finally {
            sw254.close();
            sw1.close();
            sw0.close();
        }
    }

    @Test
    void theEventStreamSendsTheEventOfBefore() throws Exception {
        String name = RestApiTest.unique("valeo");
        ValeSwitch sw = ValeSwitches.create(name, new LearningBridge()); // no address learned: the event depends only on its time
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        try (Port a = Netmap.open(name + ":a"); ControlServer server = ControlServer.start("127.0.0.1", 0, null, List.of(sw))) {
            for (int i = 0; i < 30; i++) {
                SwitchAdmin.newPersistent(name + ":p" + i);
            }
            HttpResponse<java.io.InputStream> r = client.send(HttpRequest.newBuilder(URI.create(server.url() + "api/v1/events"))
                    .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, r.statusCode());
            assertEquals("text/event-stream", r.headers().firstValue("content-type").orElse(""));
            try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                assertEquals("retry: 1000", in.readLine());
                assertEquals("", in.readLine());
                for (int k = 0; k < 2; k++) { // the first event and the first of the timer
                    String data = in.readLine();
                    assertEquals("", in.readLine(), "an event ends with a blank line");
                    long time = new JsonObject(data.substring("data: ".length())).getLong("time");
                    assertEquals(ReferenceOutputs.event(List.of(sw), time, System.nanoTime()), data + "\n\n");
                }
            }
        } finally {
            client.shutdownNow();
            sw.close();
        }
    }

    /** Label values as both formats want them: backslash, double quote and line feed escaped, the rest UTF-8. */
    static final String[] HARD_LABELS = {"", "plain", "quote\"d", "back\\slash", "new\nline", "\\\"\n\\n", "é 中文 \uD83D\uDE00",
        "tab\tand cr\r", "lone \uD800 surrogate", "trailing\\"};

    @Test
    void labelValuesAreEscapedAsTheFormatSays() {
        String[] expected = {"", "plain", "quote\\\"d", "back\\\\slash", "new\\nline", "\\\\\\\"\\n\\\\n", "é 中文 \uD83D\uDE00",
            "tab\tand cr\r", "lone ? surrogate", "trailing\\\\"};
        MetricsOut.Family f = new MetricsOut.Family("jnetmap_test_labels", "counter", "Label values that need escaping.");
        byte[] key = MetricsOut.label("value");
        byte[] other = MetricsOut.label("i");
        for (boolean om : new boolean[] {false, true}) {
            MetricsOut o = new MetricsOut(1).reset(om).family(f); // grows
            ReferenceOutputs.Writer w = new ReferenceOutputs.Writer(om);
            w.family("jnetmap_test_labels", "counter", "Label values that need escaping.");
            StringBuilder want = new StringBuilder(om ? "# HELP jnetmap_test_labels" : "# HELP jnetmap_test_labels_total")
                    .append(" Label values that need escaping.\n").append(om ? "# TYPE jnetmap_test_labels" : "# TYPE jnetmap_test_labels_total")
                    .append(" counter\n");
            for (int i = 0; i < HARD_LABELS.length; i++) {
                o.begin(f).label(other, Integer.toString(i)).label(key, HARD_LABELS[i]).end(i - 3);
                w.sample("jnetmap_test_labels", i - 3, "i", Integer.toString(i), "value", HARD_LABELS[i]);
                want.append("jnetmap_test_labels_total{i=\"").append(i).append("\",value=\"").append(expected[i]).append("\"} ")
                        .append(i - 3).append('\n');
            }
            o.finish();
            if (om) {
                want.append("# EOF\n");
            }
            assertEquals(want.toString(), o.toString());
            assertArrayEquals(w.finish().getBytes(StandardCharsets.UTF_8), Arrays.copyOf(o.array(), o.length()), "as the writer before");
        }
    }

    @Test
    void jsonStringsAndThousandthsAreWhatJacksonWrites() {
        List<String> strings = new ArrayList<>(List.of("", "a\"b\\c/d", "é ü 中文", "emoji \uD83D\uDE00", "lone \uDC00 and \uD800",
                "del \u007f", "\u2028\u2029", "high \uD83D"));
        StringBuilder controls = new StringBuilder();
        for (char c = 0; c < 0x20; c++) {
            controls.append(c);
        }
        strings.add(controls.toString());
        JsonOut o = new JsonOut(1);
        for (String s : strings) {
            o.reset().beginArray().value(s).endArray();
            assertArrayEquals(new JsonArray().add(s).encode().getBytes(StandardCharsets.UTF_8), Arrays.copyOf(o.array(), o.length()),
                    "JSON of " + s.chars().mapToObj(Integer::toHexString).toList());
        }
        long[] ks = {0, 1, 9, 10, 99, 100, 999, 1000, 1001, 1010, 1100, 12345, 300000, 999999, 123456789, 9_999_999_999L,
            10_000_000_000L, 10_000_000_001L, 123_456_789_012_345L, -1, -1500};
        for (long k : ks) {
            o.reset().beginArray().valueThousandths(k).endArray();
            assertEquals(new JsonArray().add(k / 1000.0).encode(), o.toString(), "k=" + k);
        }
        java.util.SplittableRandom r = new java.util.SplittableRandom(42);
        for (int i = 0; i < 100_000; i++) {
            long k = i < 50_000 ? i : r.nextLong(1, 20_000_000_000L);
            o.reset().beginArray().valueThousandths(k).endArray();
            assertEquals("[" + (k / 1000.0) + "]", o.toString(), "k=" + k);
        }
        o.reset().beginArray().valueMac(0x0123456789abL).valueMac(0xffffffffffffL).valueMac(0).endArray();
        assertEquals("[\"01:23:45:67:89:ab\",\"ff:ff:ff:ff:ff:ff\",\"00:00:00:00:00:00\"]", o.toString());
    }
}
