package io.jnetmap.control;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.vale.ValeSwitch;
import io.jnetmap.vale.ValeSwitches;
import io.jnetmap.vale.ctl.ValeCtl;
import io.jnetmap.vale.lookup.LearningBridge;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The live page in headless Chromium (Debian's {@code chromium}), driven through the DevTools protocol:
 * it loads without a console error, lists the ports, charts a port's rate within 10 % of the traffic's,
 * an attach made with its form shows in vale-ctl's listing, a switch created on it is hosted and drawn
 * and its remove button removes it. Saves a screenshot
 * ({@code control/target/switchd-page.png}).
 */
class LivePageTest {
    private static final int RATE = 20_000;

    /** A DevTools session over a WebSocket: numbered commands, their replies, and the events seen. */
    static final class Cdp implements WebSocket.Listener {
        final Map<Integer, CompletableFuture<JsonObject>> pending = new ConcurrentHashMap<>();
        final List<JsonObject> events = new CopyOnWriteArrayList<>();
        final AtomicInteger ids = new AtomicInteger();
        final StringBuilder partial = new StringBuilder();
        WebSocket ws;

        JsonObject send(String method, JsonObject params) throws Exception {
            int id = ids.incrementAndGet();
            CompletableFuture<JsonObject> f = new CompletableFuture<>();
            pending.put(id, f);
            ws.sendText(new JsonObject().put("id", id).put("method", method).put("params", params).encode(), true).join();
            JsonObject r = f.get(30, TimeUnit.SECONDS);
            if (r.containsKey("error")) {
                throw new AssertionError(method + ": " + r.getJsonObject("error").encode());
            }
            return r.getJsonObject("result");
        }

        Object eval(String js) throws Exception {
            JsonObject r = send("Runtime.evaluate", new JsonObject().put("expression", js).put("returnByValue", true).put("awaitPromise", true));
            if (r.containsKey("exceptionDetails")) {
                throw new AssertionError(js + ": " + r.getJsonObject("exceptionDetails").encode());
            }
            return r.getJsonObject("result").getValue("value");
        }

        @Override
        public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                JsonObject m = new JsonObject(partial.toString());
                partial.setLength(0);
                if (m.containsKey("id")) {
                    CompletableFuture<JsonObject> f = pending.remove(m.getInteger("id"));
                    if (f != null) {
                        f.complete(m);
                    }
                } else {
                    events.add(m);
                }
            }
            w.request(1);
            return null;
        }
    }

    @Test
    void pageShowsRatesAndAttaches(@TempDir Path dir) throws Exception {
        Packages.ensure("chromium", "chromium");
        String name = RestApiTest.unique("valew");
        ValeSwitch sw = ValeSwitches.create(name, new LearningBridge());
        Process chrome = null;
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread tx = null;
        Thread rx = null;
        String made = null;
        try (ControlServer server = ControlServer.start("127.0.0.1", 0, null, List.of(sw));
             Port a = Netmap.open(name + ":a"); Port b = Netmap.open(name + ":b")) {
            chrome = new ProcessBuilder("chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--remote-debugging-port=0", "--user-data-dir=" + dir.resolve("profile"), "about:blank")
                    .redirectErrorStream(true).start();
            String wsBrowser = null;
            BufferedReader out = new BufferedReader(new InputStreamReader(chrome.getInputStream(), StandardCharsets.UTF_8));
            for (String line; (line = out.readLine()) != null; ) {
                if (line.startsWith("DevTools listening on ")) {
                    wsBrowser = line.substring("DevTools listening on ".length()).trim();
                    break;
                }
            }
            assertTrue(wsBrowser != null, "chromium printed its DevTools address");
            Process ch = chrome;
            Thread.ofPlatform().daemon().start(() -> { // keep chromium's output flowing
                try {
                    ch.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
                } catch (java.io.IOException ignored) {
                    // chromium exited
                }
            });
            URI bu = URI.create(wsBrowser);
            Http devtools = new Http("http://" + bu.getHost() + ":" + bu.getPort());
            String pageWs = null;
            for (Object t : (JsonArray) devtools.get("/json/list").json()) {
                if (((JsonObject) t).getString("type").equals("page")) {
                    pageWs = ((JsonObject) t).getString("webSocketDebuggerUrl");
                }
            }
            assertTrue(pageWs != null, "a page target");
            Cdp cdp = new Cdp();
            cdp.ws = HttpClient.newHttpClient().newWebSocketBuilder().buildAsync(URI.create(pageWs), cdp).get(10, TimeUnit.SECONDS);
            cdp.send("Runtime.enable", new JsonObject());
            cdp.send("Log.enable", new JsonObject());
            cdp.send("Page.enable", new JsonObject());
            cdp.send("Emulation.setDeviceMetricsOverride", new JsonObject().put("width", 1280).put("height", 720)
                    .put("deviceScaleFactor", 1).put("mobile", false));

            tx = RestApiTest.pacedSender(a, RATE, stop, failed);
            rx = RestApiTest.drainer(b, stop);
            cdp.send("Page.navigate", new JsonObject().put("url", server.url()));
            String sel = "section[data-switch='" + name + "'] tr[data-port='a'] .rate-tx";
            int good = 0;
            double seen = -1;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
            while (System.nanoTime() < deadline && good < 3) {
                Thread.sleep(1000);
                Object v = cdp.eval("(() => { const e = document.querySelector(\"" + sel + "\"); return e ? Number(e.dataset.rate) : -1; })()");
                seen = ((Number) v).doubleValue();
                good = Math.abs(seen - RATE) <= RATE * 0.10 ? good + 1 : 0;
            }
            assertTrue(good >= 3, "the page's tx rate of port a " + seen + "/s (expected: " + RATE + " ± 10 %, three seconds in a row)");
            assertEquals("a,b", cdp.eval("[...document.querySelectorAll(\"section[data-switch='" + name + "'] tbody tr[data-port]\")]"
                    + ".map(r => r.dataset.port).join(',')"));

            // an attach made on the page shows in vale-ctl
            cdp.eval("(() => { const s = document.querySelector(\"section[data-switch='" + name + "']\");"
                    + " s.querySelector('.attach-name').value = 'pp'; s.querySelector('.attach-spec').value = '" + name + "pipe{1';"
                    + " s.querySelector('form.attach').requestSubmit(); return true; })()");
            boolean shown = false;
            for (int i = 0; i < 50 && !shown; i++) {
                Thread.sleep(100);
                shown = ValeCtl.find(name).getFirst().ports().stream().anyMatch(p -> p.name().equals("pp"));
            }
            assertTrue(shown, "vale-ctl lists the port attached from the page");

            // a switch made on the page is hosted, listed by vale-ctl and drawn
            made = RestApiTest.unique("valewn");
            cdp.eval("(() => { document.getElementById('new-switch-name').value = '" + made + "';"
                    + " document.getElementById('new-switch-lookup').value = 'l3-router';"
                    + " document.getElementById('new-switch').requestSubmit(); return true; })()");
            boolean drawn = false;
            for (int i = 0; i < 50 && !drawn; i++) {
                Thread.sleep(100);
                drawn = Boolean.TRUE.equals(cdp.eval("!!document.querySelector(\"section[data-switch='" + made + "']\")"));
            }
            assertTrue(drawn, "the page draws the switch it made");
            assertEquals("l3-router", ValeCtl.find(made).getFirst().lookup());
            Thread.sleep(1500); // the page draws the new port and a few more seconds of the chart
            JsonObject shot = cdp.send("Page.captureScreenshot", new JsonObject().put("format", "png"));
            Path png = Path.of("target", "switchd-page.png");
            Files.write(png, Base64.getDecoder().decode(shot.getString("data")));
            assertTrue(Files.size(png) > 1000);

            cdp.eval("(() => { document.querySelector(\"section[data-switch='" + made + "'] .remove-switch\").click(); return true; })()");
            boolean gone = false;
            for (int i = 0; i < 50 && !gone; i++) {
                Thread.sleep(100);
                gone = ValeSwitches.get(made).isEmpty()
                        && Boolean.FALSE.equals(cdp.eval("!!document.querySelector(\"section[data-switch='" + made + "']\")"));
            }
            assertTrue(gone, "the switch removed on the page is gone, from the process and from the page");

            List<String> errors = cdp.events.stream().filter(e -> {
                String m = e.getString("method");
                JsonObject p = e.getJsonObject("params");
                return m.equals("Runtime.exceptionThrown")
                        || (m.equals("Runtime.consoleAPICalled") && p.getString("type").equals("error"))
                        || (m.equals("Log.entryAdded") && p.getJsonObject("entry").getString("level").equals("error"));
            }).map(JsonObject::encode).toList();
            assertEquals(List.of(), errors, "no console error");
            stop.set(true);
            tx.join();
            rx.join();
            assertNull(failed.get());
            cdp.ws.sendClose(WebSocket.NORMAL_CLOSURE, "done");
        } finally {
            stop.set(true);
            if (tx != null) {
                tx.join();
            }
            if (rx != null) {
                rx.join();
            }
            if (chrome != null) {
                chrome.destroy();
                if (!chrome.waitFor(10, TimeUnit.SECONDS)) {
                    chrome.destroyForcibly();
                }
            }
            sw.close();
            if (made != null) {
                ValeSwitches.get(made).ifPresent(ValeSwitch::close);
            }
        }
    }
}
