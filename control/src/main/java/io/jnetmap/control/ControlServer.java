package io.jnetmap.control;

import io.jnetmap.vale.ValeSwitch;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URLDecoder;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The switch daemon's HTTP side on Vert.x core (one event loop): the REST API under {@code /api/v1}
 * ({@link RestApi}), its OpenAPI document, {@code /metrics} ({@link Metrics}), the live page at
 * {@code /} with its event stream {@code /api/v1/events} (server-sent events, one snapshot a second).
 *
 * <p>Safe by default: it binds to a loopback address unless given a token file; with one, every
 * request that changes something needs {@code Authorization: Bearer TOKEN} (compared in constant time).
 * Bodies are limited to {@value #MAX_BODY} bytes. Errors are JSON ({@code {"error": "..."}}), never a stack trace.
 *
 * <pre>{@code
 * ValeSwitch sw = ValeSwitches.create("vale0", new LearningBridge());
 * try (ControlServer s = ControlServer.start("127.0.0.1", 8780, null, List.of(sw))) {
 *     System.out.println(s.url());
 * }
 * }</pre>
 */
public final class ControlServer implements AutoCloseable {
    /** Largest request body accepted (64 KiB). */
    public static final int MAX_BODY = 64 * 1024;

    static {
        // Netty without sun.misc.Unsafe: set before any Netty class loads (bin/jnetmap sets it too)
        if (System.getProperty("io.netty.noUnsafe") == null) {
            System.setProperty("io.netty.noUnsafe", "true");
        }
    }

    private final Vertx vertx;
    private final HttpServer server;
    private final Hosted hosted;
    private final RestApi api;
    private final byte[] token;
    private final String url;
    /** The periodic outputs' writers and the buffers their bytes go out in: used on the event loop only. */
    private final Metrics metrics = new Metrics();
    private final Events events = new Events();
    private final ReplyBuffers buffers;

    private ControlServer(Vertx vertx, HttpServer server, Hosted hosted, RestApi api, ReplyBuffers buffers, byte[] token, String host) {
        this.vertx = vertx;
        this.buffers = buffers;
        this.server = server;
        this.hosted = hosted;
        this.api = api;
        this.token = token;
        this.url = "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + server.actualPort() + "/";
    }

    /**
     * Serves {@code switches} (hosted by this process) on {@code host:port} ({@code port} 0: any free
     * port). {@code tokenFile} (may be null) holds the bearer token changes need; it is required for
     * an address that is not loopback.
     */
    public static ControlServer start(String host, int port, Path tokenFile, List<ValeSwitch> switches) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port=" + port + " (expected: 0..65535)");
        }
        boolean loopback;
        try {
            loopback = InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("http address=" + host + " (expected: an IP address or a resolvable name)");
        }
        byte[] token = null;
        if (tokenFile != null) {
            try {
                token = Files.readString(tokenFile).strip().getBytes(StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new IllegalArgumentException("http token file=" + tokenFile + " cannot be read: " + e.getMessage());
            }
            if (token.length < 16) {
                throw new IllegalArgumentException("http token file=" + tokenFile + " holds " + token.length
                        + " bytes (expected: a token of at least 16 characters)");
            }
        } else if (!loopback) {
            throw new IllegalArgumentException("http address=" + host + " is not loopback (expected: 127.0.0.1, or a token file"
                    + " with --http-token-file so that changes need a bearer token)");
        }
        Hosted hosted = new Hosted();
        switches.forEach(hosted::add);
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1).setInternalBlockingPoolSize(1));
        HttpServer server = vertx.createHttpServer(new HttpServerOptions().setHost(host).setPort(port)
                .setMaxInitialLineLength(8192).setMaxHeaderSize(16384));
        ReplyBuffers buffers = new ReplyBuffers();
        RestApi api = new RestApi(hosted, buffers);
        ControlServer[] self = new ControlServer[1];
        server.requestHandler(req -> self[0].handle(req));
        try {
            server.listen().await(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            vertx.close();
            throw new IllegalStateException("cannot serve HTTP on " + host + ":" + port + ": " + e.getMessage(), e);
        }
        self[0] = new ControlServer(vertx, server, hosted, api, buffers, token, host);
        return self[0];
    }

    /** {@code http://HOST:PORT/}. */
    public String url() {
        return url;
    }

    public int port() {
        return server.actualPort();
    }

    /** Serves one more switch of this process. */
    public void add(ValeSwitch sw) {
        hosted.add(sw);
    }

    @Override
    public void close() {
        try {
            vertx.close().await(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            // closing anyway
        }
    }

    // ----------------------------------------------------------------------------------------------

    private void handle(HttpServerRequest req) {
        Context ctx = vertx.getOrCreateContext();
        HttpServerResponse resp = req.response();
        try {
            String path = req.path();
            HttpMethod m = req.method();
            boolean change = m != HttpMethod.GET && m != HttpMethod.HEAD;
            if (change && token != null && !authorized(req.getHeader(HttpHeaders.AUTHORIZATION))) {
                resp.putHeader("WWW-Authenticate", "Bearer");
                error(resp, new ApiError(401, "this request changes the switch: it needs Authorization: Bearer TOKEN"
                        + " (the token in the daemon's --http-token-file)"));
                return;
            }
            if (path.equals("/metrics")) {
                only(m, HttpMethod.GET);
                boolean om = Metrics.wantsOpenMetrics(req.getHeader(HttpHeaders.ACCEPT));
                resp.putHeader(HttpHeaders.CONTENT_TYPE, om ? Metrics.OPENMETRICS : Metrics.TEXT);
                buffers.end(resp, metrics.write(hosted.all(), om));
                return;
            }
            if (path.equals("/api/v1/openapi.json")) {
                only(m, HttpMethod.GET);
                resource(resp, "openapi.json", "application/json");
                return;
            }
            if (path.equals("/api/v1/events")) {
                only(m, HttpMethod.GET);
                events(req);
                return;
            }
            if (path.startsWith("/api/v1/") || path.equals("/api/v1")) {
                List<String> seg = segments(path.substring("/api/v1".length()));
                readBody(req, change).compose(body -> api.handle(ctx, m, seg, body)).onComplete(ar -> {
                    if (ar.succeeded()) {
                        json(resp, ar.result().status(), ar.result().body());
                    } else {
                        error(resp, RestApi.error(ar.cause()));
                    }
                });
                return;
            }
            only(m, HttpMethod.GET);
            switch (path) {
                case "/", "/index.html" -> resource(resp, "web/index.html", "text/html; charset=utf-8");
                case "/app.js" -> resource(resp, "web/app.js", "text/javascript; charset=utf-8");
                case "/style.css" -> resource(resp, "web/style.css", "text/css; charset=utf-8");
                case "/favicon.ico" -> resp.setStatusCode(204).end();
                default -> throw ApiError.notFound("no resource " + path + " (expected: /, /metrics, /api/v1/...)");
            }
        } catch (ApiError e) {
            error(resp, e);
        } catch (RuntimeException e) {
            error(resp, RestApi.error(e));
        }
    }

    private boolean authorized(String header) {
        if (header == null || !header.startsWith("Bearer ")) {
            return false;
        }
        byte[] given = header.substring(7).strip().getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(given, token); // constant time for equal lengths
    }

    private static void only(HttpMethod m, HttpMethod allowed) {
        if (!m.equals(allowed)) {
            throw new ApiError(405, "method " + m + " not allowed here (expected: " + allowed + ")");
        }
    }

    /** Path segments, percent-decoded ({@code +} stays {@code +}). */
    static List<String> segments(String path) {
        List<String> out = new ArrayList<>();
        for (String s : path.split("/")) {
            if (!s.isEmpty()) {
                try {
                    out.add(URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8));
                } catch (IllegalArgumentException e) {
                    throw ApiError.badRequest("path segment " + s + " has a bad %-escape");
                }
            }
        }
        return out;
    }

    /** The request body, at most {@link #MAX_BODY} bytes (413 beyond); null for a request that reads none. */
    private static Future<Buffer> readBody(HttpServerRequest req, boolean wanted) {
        if (!wanted) {
            return Future.succeededFuture(null);
        }
        String cl = req.getHeader(HttpHeaders.CONTENT_LENGTH);
        if (cl != null) {
            long n;
            try {
                n = Long.parseLong(cl.trim());
            } catch (NumberFormatException e) {
                return Future.failedFuture(ApiError.badRequest("Content-Length=" + cl + " (expected: a number)"));
            }
            if (n > MAX_BODY) {
                return Future.failedFuture(new ApiError(413, "body of " + n + " bytes (expected: at most " + MAX_BODY + ")"));
            }
        }
        Promise<Buffer> p = Promise.promise();
        Buffer buf = Buffer.buffer();
        req.handler(chunk -> {
            if (buf.length() + chunk.length() > MAX_BODY) {
                p.tryFail(new ApiError(413, "body longer than " + MAX_BODY + " bytes"));
            } else if (!p.future().isComplete()) {
                buf.appendBuffer(chunk);
            }
        });
        req.endHandler(v -> p.tryComplete(buf));
        req.exceptionHandler(p::tryFail);
        return p.future();
    }

    private static void json(HttpServerResponse resp, int status, Object body) {
        if (body instanceof ReplyBuffers.Taken written) { // a listing written straight into bytes (JsonOut), newline included
            resp.setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
            written.end(resp);
            return;
        }
        String text = body instanceof JsonObject o ? o.encode() : body instanceof JsonArray a ? a.encode() : String.valueOf(body);
        resp.setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(text + "\n");
    }

    private static void error(HttpServerResponse resp, ApiError e) {
        if (resp.ended()) {
            return;
        }
        String text = new JsonObject().put("error", e.getMessage()).put("status", e.status).encode() + "\n";
        resp.setStatusCode(e.status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
        resp.end(text);
    }

    private static final Map<String, Buffer> RESOURCES = new java.util.concurrent.ConcurrentHashMap<>();

    private static void resource(HttpServerResponse resp, String name, String type) {
        Buffer b = RESOURCES.computeIfAbsent(name, n -> {
            try (InputStream in = ControlServer.class.getResourceAsStream(n)) {
                if (in == null) {
                    throw new IllegalStateException("resource " + n + " missing from the control module's jar");
                }
                return Buffer.buffer(in.readAllBytes());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        resp.putHeader(HttpHeaders.CONTENT_TYPE, type).putHeader(HttpHeaders.CACHE_CONTROL, "no-cache").end(b);
    }

    // ----------------------------------------------------------------------------------------------
    // the live page's event stream

    private void events(HttpServerRequest req) {
        HttpServerResponse resp = req.response();
        resp.setChunked(true).putHeader(HttpHeaders.CONTENT_TYPE, "text/event-stream")
                .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache");
        resp.write("retry: 1000\n\n");
        send(resp);
        long timer = vertx.setPeriodic(1000, id -> send(resp));
        resp.closeHandler(v -> vertx.cancelTimer(timer));
        req.connection().closeHandler(v -> vertx.cancelTimer(timer));
    }

    private void send(HttpServerResponse resp) {
        if (!resp.closed() && !resp.ended() && !resp.writeQueueFull()) {
            buffers.write(resp, events.write(hosted.all(), System.currentTimeMillis(), System.nanoTime()));
        }
    }
}
