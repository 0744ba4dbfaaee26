package io.jnetmap.control;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.vale.ValeSwitch;
import io.jnetmap.vale.ValeSwitches;
import io.jnetmap.vale.lookup.FlowCache;
import io.jnetmap.vale.lookup.LearningBridge;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real Prometheus server (Debian's {@code prometheus}) scrapes {@code /metrics} every second while
 * traffic runs through the switch at a known rate; its HTTP API reports that rate. {@code promtool
 * check metrics} accepts the page.
 */
class PrometheusTest {
    private static final int RATE = 20_000;

    @Test
    void prometheusSeesTheRate(@TempDir Path dir) throws Exception {
        Packages.ensure("prometheus", "prometheus");
        String name = RestApiTest.unique("valep");
        ValeSwitch sw = ValeSwitches.create(name, new FlowCache(new LearningBridge())); // every family has samples
        Prometheus prom = null;
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread tx = null;
        try (ControlServer server = ControlServer.start("127.0.0.1", 0, null, List.of(sw));
             Port a = Netmap.open(name + ":a"); Port b = Netmap.open(name + ":b");
             Port pm = Netmap.open(name + "pipe{1"); Port ps = Netmap.open(name + "pipe}1")) {
            Http http = new Http(server.url());
            // promtool on the page, with traffic counters present
            RestApiTest.send(a, 0x02000000000bL, 0x02000000000aL, 4);
            RestApiTest.send(pm, 0x02000000000bL, 0x02000000000aL, 2);
            promtoolAccepts(http.get("/metrics").body().getBytes(StandardCharsets.UTF_8), "the page");

            prom = Prometheus.start(dir, Prometheus.job("switchd", "/metrics", server.port()));
            tx = RestApiTest.pacedSender(a, RATE, stop, failed);
            Thread rx = RestApiTest.drainer(b, stop);
            Http promHttp = prom.http();
            String q = "rate(jnetmap_port_transmit_packets_total{switch=\"" + name + "\",port=\"a\"}[5s])";
            double seen = -1;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            int good = 0;
            while (System.nanoTime() < deadline && good < 3) {
                Thread.sleep(1000);
                Http.Response r;
                try {
                    r = promHttp.get("/api/v1/query?query=" + URLEncoder.encode(q, StandardCharsets.UTF_8));
                } catch (RuntimeException notYet) {
                    continue; // prometheus still starting
                }
                if (r.status() != 200) {
                    continue;
                }
                JsonArray result = ((JsonObject) r.json()).getJsonObject("data").getJsonArray("result");
                if (result.isEmpty()) {
                    continue;
                }
                seen = Double.parseDouble(result.getJsonObject(0).getJsonArray("value").getString(1));
                good = Math.abs(seen - RATE) <= RATE * 0.15 ? good + 1 : 0;
            }
            stop.set(true);
            rx.join();
            assertNull(failed.get());
            assertTrue(good >= 3, "Prometheus' rate of a's packets " + seen + "/s (expected: " + RATE + " ± 15 %, three queries in a row)"
                    + "; its log: " + tail(dir.resolve("prometheus.log")));
        } finally {
            stop.set(true);
            if (tx != null) {
                tx.join();
            }
            if (prom != null) {
                prom.close();
            }
            sw.close();
        }
    }

    static String tail(Path log) throws IOException {
        if (!Files.exists(log)) {
            return "(none)";
        }
        List<String> l = Files.readAllLines(log);
        return String.join("\n", l.subList(Math.max(0, l.size() - 10), l.size()));
    }

    /** {@code promtool check metrics} accepts {@code page} and its lint says nothing. */
    static void promtoolAccepts(byte[] page, String what) throws IOException, InterruptedException {
        Process check = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
        try (OutputStream in = check.getOutputStream()) {
            in.write(page);
        }
        String said = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, check.waitFor(), "promtool check metrics on " + what + ": " + said);
        assertEquals("", said.strip(), "promtool's lint is silent on " + what);
    }

    /** A Prometheus server on a free local port, scraping every second, its log in {@code prometheus.log}. */
    record Prometheus(Process process, Http http) implements AutoCloseable {
        static String job(String name, String path, int port) {
            return """
                      - job_name: %s
                        metrics_path: %s
                        static_configs:
                          - targets: ['127.0.0.1:%d']
                    """.formatted(name, path, port);
        }

        static Prometheus start(Path dir, String... jobs) throws IOException {
            int port;
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
            Path cfg = dir.resolve("prometheus.yml");
            Files.writeString(cfg, """
                    global:
                      scrape_interval: 1s
                      evaluation_interval: 1s
                    scrape_configs:
                    """ + String.join("", jobs));
            Process p = new ProcessBuilder("prometheus", "--config.file=" + cfg, "--storage.tsdb.path=" + dir.resolve("data"),
                    "--web.listen-address=127.0.0.1:" + port).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("prometheus.log").toFile()).start();
            return new Prometheus(p, new Http("http://127.0.0.1:" + port));
        }

        @Override
        public void close() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }
}
