package io.jnetmap.control;

import io.jnetmap.core.NetmapException;
import io.jnetmap.vale.AttachedPort;
import io.jnetmap.vale.LookupModule;
import io.jnetmap.vale.Packet;
import io.jnetmap.vale.SwitchAdmin;
import io.jnetmap.vale.SwitchPort;
import io.jnetmap.vale.ValeSwitch;
import io.jnetmap.vale.ValeSwitches;
import io.jnetmap.vale.ctl.SwitchFileLayout;
import io.jnetmap.vale.lookup.FlowCache;
import io.jnetmap.vale.lookup.L3Router;
import io.jnetmap.vale.lookup.LearningBridge;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The REST API under {@code /api/v1} (see {@code openapi.json} beside this class): what vale-ctl does,
 * and the lookup module, routes and learning table. Reads answer from the switches' lock-free snapshots
 * on the event loop; changes go through the control queue ({@link ControlQueue}). Every refusal is an
 * {@link ApiError}: 400 for bad input, 404 for an unknown switch or port, 409 when the switch's state
 * forbids it.
 */
final class RestApi {
    /**
     * A reply: status and JSON body (an object, an array, or JSON text from {@link JsonOut} in a pooled
     * buffer, {@link ReplyBuffers.Taken}).
     */
    record Reply(int status, Object body) {
        static Reply ok(Object body) {
            return new Reply(200, body);
        }
    }

    private final Hosted hosted;
    /** The large listings' writer: used only on the event loop, synchronously in {@link #handle}. */
    private final JsonOut out = new JsonOut(128 * 1024);
    /** The buffers the listings go out in (the server's, shared with its other large replies). */
    private final ReplyBuffers buffers;

    RestApi(Hosted hosted, ReplyBuffers buffers) {
        this.hosted = hosted;
        this.buffers = buffers;
    }

    /**
     * Answers {@code method} on {@code seg} (the path's segments after {@code /api/v1}, decoded) with
     * request body {@code body} (null when there is none).
     */
    Future<Reply> handle(Context ctx, HttpMethod method, List<String> seg, Buffer body) {
        int n = seg.size();
        if (n == 1 && seg.get(0).equals("switches")) {
            if (method == HttpMethod.GET) {
                return done(listSwitches());
            }
            allow(method, HttpMethod.GET, HttpMethod.POST);
            return createSwitch(ctx, json(body));
        }
        if (n < 2 || !seg.get(0).equals("switches")) {
            throw ApiError.notFound("no resource /api/v1/" + String.join("/", seg)
                    + " (expected: /api/v1/switches[/S[/ports|/lookup|/routes|/mac-table]] or /api/v1/openapi.json)");
        }
        ValeSwitch sw = hosted.get(seg.get(1));
        if (n == 2) {
            if (method == HttpMethod.GET) {
                JsonOut o = out.reset();
                writeSwitch(o, sw);
                return done(buffers.copy(o.endDocument()));
            }
            allow(method, HttpMethod.GET, HttpMethod.DELETE);
            return ControlQueue.call(ctx, () -> {
                sw.close(); // refused (409) while a VALE port of it is open
                hosted.remove(sw);
                return Reply.ok(new JsonObject().put("removed", sw.name()));
            });
        }
        String what = seg.get(2);
        switch (what) {
            case "ports" -> {
                if (n == 3) {
                    if (method == HttpMethod.GET) {
                        JsonOut o = out.reset();
                        writePorts(o, sw);
                        return done(buffers.copy(o.endDocument()));
                    }
                    allow(method, HttpMethod.GET, HttpMethod.POST);
                    return addPort(ctx, sw, json(body));
                }
                SwitchPort p = Hosted.port(sw, seg.get(3));
                if (n == 4) {
                    if (method == HttpMethod.GET) {
                        return done(portJson(p));
                    }
                    allow(method, HttpMethod.GET, HttpMethod.DELETE);
                    String arg = sw.name() + ":" + p.name();
                    return ControlQueue.call(ctx, () -> SwitchAdmin.detach(arg))
                            .map(r -> new Reply(200, new JsonObject().put("result", r)));
                }
                if (n == 5 && seg.get(4).equals("backpressure")) {
                    if (method == HttpMethod.GET) {
                        return done(new JsonObject().put("enabled", p.backPressure()));
                    }
                    allow(method, HttpMethod.GET, HttpMethod.PUT);
                    JsonObject j = json(body);
                    fields(j, "enabled");
                    boolean on = bool(j, "enabled", true);
                    return ControlQueue.callLight(ctx, () -> {
                        p.setBackPressure(on);
                        return new Reply(200, new JsonObject().put("enabled", p.backPressure()));
                    });
                }
            }
            case "lookup" -> {
                if (n == 3) {
                    if (method == HttpMethod.GET) {
                        return done(lookupJson(sw));
                    }
                    allow(method, HttpMethod.GET, HttpMethod.PUT);
                    return setLookup(ctx, sw, json(body));
                }
            }
            case "routes" -> {
                if (n == 3) {
                    if (method == HttpMethod.GET) {
                        L3Router router = router(sw);
                        // the snapshot between batches, the JSON on the event loop
                        return ControlQueue.callLight(ctx, () -> Routes.list(router)).map(l -> Reply.ok(routesJson(l)));
                    }
                    allow(method, HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT);
                    JsonObject j = json(body);
                    if (method == HttpMethod.POST) {
                        Routes.Route r = route(sw, j);
                        L3Router router = router(sw);
                        return ControlQueue.callLight(ctx, () -> {
                            checkRouter(sw, router);
                            Routes.add(router, r);
                            return new Reply(201, routeJson(r));
                        });
                    }
                    fields(j, "routes");
                    JsonArray a = array(j, "routes");
                    List<Routes.Route> routes = new ArrayList<>(a.size());
                    for (int i = 0; i < a.size(); i++) {
                        if (!(a.getValue(i) instanceof JsonObject o)) {
                            throw ApiError.badRequest("routes[" + i + "]: not an object (expected: {\"prefix\", \"port\", \"mac\"})");
                        }
                        try {
                            routes.add(route(sw, o));
                        } catch (ApiError x) {
                            throw new ApiError(x.status, "routes[" + i + "]: " + x.getMessage());
                        }
                    }
                    L3Router router = router(sw);
                    return ControlQueue.callLight(ctx, () -> {
                        checkRouter(sw, router);
                        Routes.replace(router, routes);
                        return Routes.list(router);
                    }).map(l -> Reply.ok(routesJson(l)));
                }
                if (n == 5) {
                    allow(method, HttpMethod.DELETE);
                    int[] c = cidr(seg.get(3) + "/" + seg.get(4));
                    L3Router router = router(sw);
                    return ControlQueue.callLight(ctx, () -> {
                        checkRouter(sw, router);
                        if (!Routes.remove(router, c[0], c[1])) {
                            throw ApiError.notFound("no route " + Routes.ipv4(c[0]) + "/" + c[1] + " on switch " + sw.name());
                        }
                        return Reply.ok(new JsonObject().put("removed", Routes.ipv4(c[0]) + "/" + c[1]));
                    });
                }
            }
            case "mac-table" -> {
                if (n == 3) {
                    if (method == HttpMethod.GET) {
                        return done(macTableJson(sw, bridge(sw), Integer.MAX_VALUE));
                    }
                    allow(method, HttpMethod.GET, HttpMethod.DELETE);
                    LearningBridge b = bridge(sw);
                    return ControlQueue.callLight(ctx, () -> {
                        b.flush();
                        return Reply.ok(new JsonObject().put("flushed", true));
                    });
                }
                if (n == 4 && seg.get(3).equals("aging")) {
                    if (method == HttpMethod.GET) {
                        return done(new JsonObject().put("seconds", bridge(sw).age().toMillis() / 1000.0));
                    }
                    allow(method, HttpMethod.GET, HttpMethod.PUT);
                    JsonObject j = json(body);
                    fields(j, "seconds");
                    double s = number(j, "seconds", 0.001, 1e6);
                    LearningBridge b = bridge(sw);
                    LookupModule cur = sw.lookup();
                    return ControlQueue.call(ctx, () -> {
                        LearningBridge nb = new LearningBridge(LearningBridge.DEFAULT_ENTRIES, Duration.ofNanos((long) (s * 1e9)));
                        sw.setLookup(cur instanceof FlowCache ? new FlowCache(nb) : nb);
                        return Reply.ok(new JsonObject().put("seconds", nb.age().toMillis() / 1000.0)
                                .put("note", "the table starts empty with the new aging time (was " + b.age().toMillis() / 1000.0 + " s)"));
                    });
                }
            }
            default -> {
            }
        }
        throw ApiError.notFound("no resource /api/v1/" + String.join("/", seg)
                + " (expected under /api/v1/switches/" + sw.name() + ": ports[/P[/backpressure]], lookup, routes[/A.B.C.D/LEN], mac-table[/aging])");
    }

    // ----------------------------------------------------------------------------------------------
    // changes

    private Future<Reply> addPort(Context ctx, ValeSwitch sw, JsonObject j) {
        fields(j, "name", "attach", "host", "backpressure", "conf");
        String name = string(j, "name", true);
        if (name.isEmpty() || name.contains(":") || name.contains("=") || name.contains("/")) {
            throw ApiError.badRequest("name=" + name + " (expected: a port name without ':', '=' or '/')");
        }
        String spec = string(j, "attach", false);
        boolean host = j.containsKey("host") && bool(j, "host", false);
        boolean bp = j.containsKey("backpressure") && bool(j, "backpressure", false);
        String conf = string(j, "conf", false);
        if (conf != null && (spec != null || !conf.matches("[a-z0-9=,-]+"))) {
            throw ApiError.badRequest("conf=" + conf + " (expected: for a persistent port only, e.g. \"tx-slots=1024,rx-slots=1024,tx-rings=1,rx-rings=1\")");
        }
        if (spec == null && host) {
            throw ApiError.badRequest("host=true needs attach (expected: {\"name\", \"attach\": \"netmap:IF\", \"host\": true})");
        }
        if (sw.port(name).isPresent()) {
            throw ApiError.conflict("switch " + sw.name() + " already has a port \"" + name + "\"");
        }
        if (spec == null) {
            return ControlQueue.call(ctx, () -> {
                SwitchPort p = SwitchAdmin.newPersistent(sw.name() + ":" + name + (conf != null ? "@conf:" + conf : ""));
                p.setBackPressure(bp);
                return new Reply(201, portJson(p));
            });
        }
        if (spec.isBlank()) {
            throw ApiError.badRequest("attach=\"\" (expected: a port spec such as netmap:eth1, pipe{1, netmap:eth1^)");
        }
        String arg = sw.name() + ":" + name + "=" + spec;
        return ControlQueue.call(ctx, () -> {
            List<AttachedPort> ps = SwitchAdmin.attach(arg, host);
            JsonArray a = new JsonArray();
            for (AttachedPort p : ps) {
                p.setBackPressure(bp);
                a.add(portJson(p));
            }
            return new Reply(201, new JsonObject().put("attached", a));
        });
    }

    /** POST /switches: a new switch, explicit (it stays without ports until removed), served by this daemon. */
    private Future<Reply> createSwitch(Context ctx, JsonObject j) {
        fields(j, "name", "lookup", "flowCache");
        String name = string(j, "name", true);
        String module = j.containsKey("lookup") ? string(j, "lookup", true) : "learning-bridge";
        boolean fc = j.containsKey("flowCache") && bool(j, "flowCache", false);
        if (!name.matches("vale[A-Za-z0-9_]{0,27}")) {
            throw ApiError.badRequest("name=" + name + " (expected: \"vale\" followed by up to 27 of [A-Za-z0-9_], e.g. vale1)");
        }
        LookupModule probe = module(module);
        if (hosted.contains(name)) {
            throw ApiError.conflict("switch " + name + " already exists");
        }
        return ControlQueue.callOrWork(ctx, () -> {
            LookupModule m = probe;
            ValeSwitch sw = ValeSwitches.create(name, fc ? new FlowCache(m) : m);
            hosted.add(sw);
            return new Reply(201, switchJson(sw, true));
        });
    }

    /** A new instance of lookup module {@code name}, or 400. */
    private static LookupModule module(String name) {
        return switch (name) {
            case "learning-bridge" -> new LearningBridge();
            case "l3-router" -> new L3Router();
            default -> throw ApiError.badRequest("lookup=" + name + " (expected: learning-bridge or l3-router)");
        };
    }

    private Future<Reply> setLookup(Context ctx, ValeSwitch sw, JsonObject j) {
        fields(j, "module", "flowCache");
        String module = string(j, "module", true);
        boolean fc = j.containsKey("flowCache") && bool(j, "flowCache", false);
        if (!module.equals("learning-bridge") && !module.equals("l3-router")) {
            throw ApiError.badRequest("module=" + module + " (expected: learning-bridge or l3-router)");
        }
        return ControlQueue.call(ctx, () -> {
            LookupModule m = module.equals("l3-router") ? new L3Router() : new LearningBridge();
            sw.setLookup(fc ? new FlowCache(m) : m);
            return Reply.ok(lookupJson(sw));
        });
    }

    private static void checkRouter(ValeSwitch sw, L3Router r) {
        if (Hosted.router(sw) != r) {
            throw ApiError.conflict("switch " + sw.name() + " changed its lookup module meanwhile (retry)");
        }
    }

    // ----------------------------------------------------------------------------------------------
    // JSON views

    JsonArray listSwitches() {
        JsonArray a = new JsonArray();
        for (ValeSwitch sw : hosted.all()) {
            a.add(switchJson(sw, false));
        }
        return a;
    }

    static JsonObject switchJson(ValeSwitch sw, boolean withPorts) {
        List<SwitchPort> ports = sw.portList();
        JsonObject j = new JsonObject().put("name", sw.name()).put("lookup", lookupJson(sw))
                .put("portCount", ports.size()).put("maxPorts", ValeSwitch.MAX_PORTS);
        sw.statsFile().ifPresent(f -> j.put("countersFile", f.toString()));
        if (withPorts) {
            j.put("ports", portsJson(sw));
        }
        return j;
    }

    static JsonArray portsJson(ValeSwitch sw) {
        JsonArray a = new JsonArray();
        for (SwitchPort p : sw.portList()) {
            a.add(portJson(p));
        }
        return a;
    }

    static JsonObject portJson(SwitchPort p) {
        JsonObject c = new JsonObject();
        for (int i = 0; i < SwitchFileLayout.TX_COUNTERS; i++) {
            c.put(SwitchFileLayout.TX_NAMES[i], p.txCounter(i));
        }
        for (int i = 0; i < SwitchFileLayout.RX_COUNTERS; i++) {
            c.put(SwitchFileLayout.RX_NAMES[i], p.rxCounter(i));
        }
        return new JsonObject().put("name", p.name()).put("index", p.index())
                .put("kind", p instanceof AttachedPort ? "attached" : "vale").put("backend", p.backend())
                .put("rings", p.rings()).put("backPressure", p.backPressure()).put("counters", c);
    }

    /** As {@link #switchJson switchJson(sw, true)}, the same bytes, written straight out. */
    static void writeSwitch(JsonOut o, ValeSwitch sw) {
        List<SwitchPort> ports = sw.portList();
        LookupModule m = sw.lookup();
        o.beginObject().name("name").value(sw.name())
                .name("lookup").beginObject().name("module").value(Hosted.inner(m).name()).name("flowCache").value(m instanceof FlowCache);
        if (m instanceof FlowCache fc) {
            o.name("flowCacheHits").value(fc.hits()).name("flowCacheMisses").value(fc.misses());
        }
        o.endObject().name("portCount").value(ports.size()).name("maxPorts").value(ValeSwitch.MAX_PORTS);
        sw.statsFile().ifPresent(f -> o.name("countersFile").value(f.toString()));
        o.name("ports");
        writePorts(o, ports);
        o.endObject();
    }

    /** As {@link #portsJson}, the same bytes, written straight out. */
    static void writePorts(JsonOut o, ValeSwitch sw) {
        writePorts(o, sw.portList());
    }

    private static final byte[] K_NAME = JsonOut.key("name");
    private static final byte[] K_INDEX = JsonOut.key("index");
    private static final byte[] K_KIND = JsonOut.key("kind");
    private static final byte[] K_BACKEND = JsonOut.key("backend");
    private static final byte[] K_RINGS = JsonOut.key("rings");
    private static final byte[] K_BACK_PRESSURE = JsonOut.key("backPressure");
    private static final byte[] K_COUNTERS = JsonOut.key("counters");
    private static final byte[][] K_TX = java.util.Arrays.stream(SwitchFileLayout.TX_NAMES).map(JsonOut::key).toArray(byte[][]::new);
    private static final byte[][] K_RX = java.util.Arrays.stream(SwitchFileLayout.RX_NAMES).map(JsonOut::key).toArray(byte[][]::new);

    private static void writePorts(JsonOut o, List<SwitchPort> ports) {
        o.beginArray();
        for (SwitchPort p : ports) {
            o.beginObject().name(K_NAME).value(p.name()).name(K_INDEX).value(p.index())
                    .name(K_KIND).value(p instanceof AttachedPort ? "attached" : "vale").name(K_BACKEND).value(p.backend())
                    .name(K_RINGS).value(p.rings()).name(K_BACK_PRESSURE).value(p.backPressure())
                    .name(K_COUNTERS).beginObject();
            for (int i = 0; i < SwitchFileLayout.TX_COUNTERS; i++) {
                o.name(K_TX[i]).value(p.txCounter(i));
            }
            for (int i = 0; i < SwitchFileLayout.RX_COUNTERS; i++) {
                o.name(K_RX[i]).value(p.rxCounter(i));
            }
            o.endObject().endObject();
        }
        o.endArray();
    }

    static JsonObject lookupJson(ValeSwitch sw) {
        LookupModule m = sw.lookup();
        JsonObject j = new JsonObject().put("module", Hosted.inner(m).name()).put("flowCache", m instanceof FlowCache);
        if (m instanceof FlowCache fc) {
            j.put("flowCacheHits", fc.hits()).put("flowCacheMisses", fc.misses());
        }
        return j;
    }

    static JsonObject routesJson(List<Routes.Route> routes) {
        JsonArray a = new JsonArray();
        for (Routes.Route r : routes) {
            a.add(routeJson(r));
        }
        return new JsonObject().put("routes", a);
    }

    static JsonObject routeJson(Routes.Route r) {
        return new JsonObject().put("prefix", r.cidr()).put("port", r.port()).put("mac", r.macText());
    }

    static JsonObject macTableJson(ValeSwitch sw, LearningBridge b, int max) {
        return macTableJson(sw, b, max, System.nanoTime());
    }

    /** The learning table with idle times as of {@code nowNanos} ({@link System#nanoTime}). */
    static JsonObject macTableJson(ValeSwitch sw, LearningBridge b, int max, long nowNanos) {
        JsonArray a = new JsonArray();
        String[] names = new String[ValeSwitch.MAX_PORTS];
        for (SwitchPort p : sw.portList()) {
            if (p.index() >= 0) {
                names[p.index()] = p.name();
            }
        }
        int[] total = new int[1];
        b.forEach(nowNanos, (mac, port, idle) -> {
            total[0]++;
            if (a.size() < max) {
                a.add(new JsonObject().put("mac", Packet.macToString(mac)).put("port", names[port] != null ? names[port] : "#" + port)
                        .put("idleSeconds", Math.round(idle / 1e6) / 1000.0));
            }
        });
        return new JsonObject().put("agingSeconds", b.age().toMillis() / 1000.0).put("size", total[0]).put("entries", a);
    }

    // ----------------------------------------------------------------------------------------------
    // input

    private static Future<Reply> done(Object body) {
        return Future.succeededFuture(Reply.ok(body));
    }

    private static void allow(HttpMethod m, HttpMethod... allowed) {
        for (HttpMethod a : allowed) {
            if (a.equals(m)) {
                return;
            }
        }
        throw new ApiError(405, "method " + m + " not allowed here (expected: "
                + String.join(", ", java.util.Arrays.stream(allowed).map(HttpMethod::name).toList()) + ")");
    }

    private static L3Router router(ValeSwitch sw) {
        L3Router r = Hosted.router(sw);
        if (r == null) {
            throw ApiError.conflict("switch " + sw.name() + " routes with lookup module " + Hosted.inner(sw.lookup()).name()
                    + " (expected: l3-router; PUT /api/v1/switches/" + sw.name() + "/lookup {\"module\": \"l3-router\"})");
        }
        return r;
    }

    private static LearningBridge bridge(ValeSwitch sw) {
        LearningBridge b = Hosted.bridge(sw);
        if (b == null) {
            throw ApiError.conflict("switch " + sw.name() + " has lookup module " + Hosted.inner(sw.lookup()).name()
                    + " (expected: learning-bridge for a MAC table)");
        }
        return b;
    }

    private static Routes.Route route(ValeSwitch sw, JsonObject j) {
        fields(j, "prefix", "port", "mac");
        int[] c = cidr(string(j, "prefix", true));
        String port = string(j, "port", true);
        Hosted.port(sw, port);
        long mac;
        try {
            mac = Packet.parseMac(string(j, "mac", true));
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(e.getMessage());
        }
        return new Routes.Route(c[0], c[1], port, mac);
    }

    static int[] cidr(String text) {
        try {
            int[] c = L3Router.parseCidr(text);
            c[0] &= c[1] == 0 ? 0 : -1 << (32 - c[1]);
            return c;
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(e.getMessage());
        }
    }

    /** The body as a JSON object, or 400 saying why not. */
    static JsonObject json(Buffer body) {
        if (body == null || body.length() == 0) {
            throw ApiError.badRequest("no request body (expected: a JSON object)");
        }
        Object v;
        try {
            v = io.vertx.core.json.Json.decodeValue(body);
        } catch (RuntimeException e) {
            String m = String.valueOf(e.getMessage());
            int nl = m.indexOf('\n');
            throw ApiError.badRequest("body is not JSON: " + (nl > 0 ? m.substring(0, nl) : m));
        }
        if (!(v instanceof JsonObject o)) {
            throw ApiError.badRequest("body is " + (v == null ? "null" : "a " + v.getClass().getSimpleName()) + " (expected: a JSON object)");
        }
        return o;
    }

    /** Refuses fields other than {@code known}. */
    static void fields(JsonObject j, String... known) {
        Set<String> k = Set.of(known);
        for (String f : j.fieldNames()) {
            if (!k.contains(f)) {
                throw ApiError.badRequest("unknown field \"" + f + "\" (expected: " + String.join(", ", known) + ")");
            }
        }
    }

    static String string(JsonObject j, String f, boolean required) {
        Object v = j.getValue(f);
        if (v == null) {
            if (required) {
                throw ApiError.badRequest("missing field \"" + f + "\" (expected: a string)");
            }
            return null;
        }
        if (!(v instanceof String s)) {
            throw ApiError.badRequest("field \"" + f + "\" = " + v + " (expected: a string)");
        }
        return s;
    }

    static boolean bool(JsonObject j, String f, boolean required) {
        Object v = j.getValue(f);
        if (!(v instanceof Boolean b)) {
            throw ApiError.badRequest((v == null ? "missing field \"" + f + "\"" : "field \"" + f + "\" = " + v) + " (expected: true or false)");
        }
        return b;
    }

    static double number(JsonObject j, String f, double min, double max) {
        Object v = j.getValue(f);
        if (!(v instanceof Number num) || !(num.doubleValue() >= min && num.doubleValue() <= max)) {
            throw ApiError.badRequest((v == null ? "missing field \"" + f + "\"" : "field \"" + f + "\" = " + v)
                    + " (expected: a number " + min + ".." + max + ")");
        }
        return num.doubleValue();
    }

    static JsonArray array(JsonObject j, String f) {
        Object v = j.getValue(f);
        if (!(v instanceof JsonArray a)) {
            throw ApiError.badRequest((v == null ? "missing field \"" + f + "\"" : "field \"" + f + "\"") + " (expected: an array)");
        }
        return a;
    }

    /** The HTTP status for a failure of a control action. */
    static ApiError error(Throwable t) {
        if (t instanceof ApiError a) {
            return a;
        }
        String m = t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
        if (t instanceof NetmapException.PortBusy || t instanceof NetmapException.Closed) {
            return ApiError.conflict(m);
        }
        if (t instanceof IllegalArgumentException || t instanceof NetmapException || t instanceof IllegalStateException) {
            return ApiError.badRequest(m);
        }
        return new ApiError(500, "internal error: " + t.getClass().getSimpleName() + ": " + m);
    }
}
