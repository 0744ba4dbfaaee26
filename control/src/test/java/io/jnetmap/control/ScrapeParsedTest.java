package io.jnetmap.control;

import com.sun.net.httpserver.HttpServer;
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
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pages the byte writer makes, read by Prometheus' own parsers: {@code promtool check metrics}
 * (the 0.0.4 text parser and its lint) on a real scrape of a 254-port switch and on a page of label
 * values that need escaping; a real Prometheus server scraping the daemon (it asks for OpenMetrics) and
 * that page in both formats, whose API then gives back every label value as it was before escaping.
 */
class ScrapeParsedTest {
    @Test
    void prometheusParsesWhatTheWriterWrites(@TempDir Path dir) throws Exception {
        Packages.ensure("prometheus", "prometheus");
        String name = RestApiTest.unique("valeq");
        ValeSwitch sw = ValeSwitches.create(name, new FlowCache(new LearningBridge()));
        PrometheusTest.Prometheus prom = null;
        HttpServer pages = null;
        try (Port a = Netmap.open(name + ":a"); ControlServer server = ControlServer.start("127.0.0.1", 0, null, List.of(sw))) {
            for (int i = 0; i < ValeSwitch.MAX_PORTS - 1; i++) {
                SwitchAdmin.newPersistent(name + ":p" + i);
            }
            RestApiTest.send(a, 0x02000000000bL, 0x02000000000aL, 3);
            Http http = new Http(server.url());
            Http.Response scrape = http.get("/metrics");
            assertEquals(200, scrape.status());
            assertEquals(Metrics.TEXT, scrape.contentType());
            PrometheusTest.promtoolAccepts(scrape.body().getBytes(StandardCharsets.UTF_8), "a scrape of a switch of 254 ports");

            byte[] text = hardPage(false);
            byte[] om = hardPage(true);
            PrometheusTest.promtoolAccepts(text, "label values that need escaping");
            pages = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            serve(pages, "/text", Metrics.TEXT, text);
            serve(pages, "/om", Metrics.OPENMETRICS, om);
            pages.start();

            int pagesPort = pages.getAddress().getPort();
            prom = PrometheusTest.Prometheus.start(dir, PrometheusTest.Prometheus.job("switchd", "/metrics", server.port()),
                    PrometheusTest.Prometheus.job("hardtext", "/text", pagesPort), PrometheusTest.Prometheus.job("hardom", "/om", pagesPort));
            Http promHttp = prom.http();

            String ports = "count(jnetmap_port_receive_packets_total{switch=\"" + name + "\"})";
            String sent = "jnetmap_port_transmit_packets_total{switch=\"" + name + "\",port=\"a\"}";
            JsonArray portCount = query(promHttp, ports, dir);
            assertEquals("254", portCount.getJsonObject(0).getJsonArray("value").getString(1), "series of the 254 ports");
            assertEquals("3", query(promHttp, sent, dir).getJsonObject(0).getJsonArray("value").getString(1), "a's packets");
            for (String job : new String[] {"hardtext", "hardom"}) {
                JsonArray got = query(promHttp, "jnetmap_test_labels_total{job=\"" + job + "\"}", dir);
                assertEquals(ScrapeOutputTest.HARD_LABELS.length, got.size(), job + ": one series per label value: " + got.encode());
                Map<Integer, String> values = new HashMap<>();
                for (int i = 0; i < got.size(); i++) {
                    JsonObject m = got.getJsonObject(i).getJsonObject("metric");
                    int index = Integer.parseInt(m.getString("i"));
                    values.put(index, m.getString("value", "")); // Prometheus drops a label whose value is empty
                    assertEquals(String.valueOf(index), got.getJsonObject(i).getJsonArray("value").getString(1), job + ": the sample's value");
                }
                for (int i = 0; i < ScrapeOutputTest.HARD_LABELS.length; i++) {
                    String want = ScrapeOutputTest.HARD_LABELS[i].replace("\uD800", "?"); // a lone surrogate has no UTF-8: '?', as String.getBytes
                    assertEquals(want, values.get(i), job + ": label value " + i + " as Prometheus parsed it");
                }
            }
        } finally {
            if (pages != null) {
                pages.stop(0);
            }
            if (prom != null) {
                prom.close();
            }
            sw.close();
        }
    }

    /** A family of samples whose {@code value} labels are {@link ScrapeOutputTest#HARD_LABELS}, sample i's value i. */
    private static byte[] hardPage(boolean openMetrics) {
        MetricsOut.Family f = new MetricsOut.Family("jnetmap_test_labels", "counter", "Label values that need escaping.");
        MetricsOut o = new MetricsOut(64).reset(openMetrics).family(f);
        for (int i = 0; i < ScrapeOutputTest.HARD_LABELS.length; i++) {
            o.begin(f).label(MetricsOut.label("i"), Integer.toString(i)).label(MetricsOut.label("value"), ScrapeOutputTest.HARD_LABELS[i]).end(i);
        }
        o.finish();
        return Arrays.copyOf(o.array(), o.length());
    }

    private static void serve(HttpServer s, String path, String type, byte[] body) {
        s.createContext(path, ex -> {
            ex.getResponseHeaders().set("Content-Type", type);
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
    }

    /** The result of an instant query, once Prometheus has one (within 60 s). */
    private static JsonArray query(Http prom, String q, Path dir) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String last = "(no answer)";
        while (System.nanoTime() < deadline) {
            try {
                Http.Response r = prom.get("/api/v1/query?query=" + URLEncoder.encode(q, StandardCharsets.UTF_8));
                last = r.status() + " " + r.body();
                if (r.status() == 200) {
                    JsonArray result = ((JsonObject) r.json()).getJsonObject("data").getJsonArray("result");
                    if (!result.isEmpty()) {
                        return result;
                    }
                }
            } catch (RuntimeException notYet) {
                last = notYet.toString(); // prometheus still starting
            }
            Thread.sleep(500);
        }
        throw new AssertionError("Prometheus gave no result for " + q + " within 60 s: " + last + "; its log: "
                + PrometheusTest.tail(dir.resolve("prometheus.log")));
    }
}
