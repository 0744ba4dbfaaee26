package io.jnetmap.bench.ctl;

import io.jnetmap.bench.BenchMain;
import io.jnetmap.control.ControlServer;
import io.jnetmap.control.OutputPaths;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.vale.SwitchAdmin;
import io.jnetmap.vale.SwitchPort;
import io.jnetmap.vale.ValeSwitch;
import io.jnetmap.vale.ValeSwitches;
import io.jnetmap.vale.ctl.SwitchFileLayout;
import io.jnetmap.vale.lookup.LearningBridge;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Suite {@code ctl}: what the control plane costs and how fast it answers.
 * <ul>
 *   <li>{@code ctl.overhead}: one thread copying 60-byte frames between two VALE ports (as
 *   {@code vale.copy.2p.60B}) with a 1 Hz scrape of /metrics and the page's event stream open, over
 *   the same without (switchd serving, nobody asking), in alternating rounds (ABBA) of one run; the
 *   two rates are {@code ctl.copy.2p.60B.observed} and {@code ctl.copy.2p.60B.plain};</li>
 *   <li>{@code ctl.rest.ports254.p99}: latency of {@code GET /api/v1/switches/S/ports} on a switch of 254 ports
 *   (a plain HTTP/1.1 client on a kept connection; {@code .httpclient.*}: the JDK's HttpClient, alternately);</li>
 *   <li>{@code ctl.apply.p99}: from a control request entering the queue to its change being visible to
 *   forwarders (a port's back-pressure flag), while the copy loop runs; {@code ctl.apply.housekeeper.*}:
 *   the same request where only the housekeeping thread may apply it (the path before issue 10's
 *   per-batch drain), measured alternately in the same run;</li>
 *   <li>{@code ctl.metrics254.*}, {@code ctl.events254.*}: one scrape of /metrics, one event of the page's
 *   stream, for a switch of 254 ports: bytes allocated and CPU time of the calling thread (ThreadMXBean)
 *   by the served path (written straight into reused bytes, sent in a pooled buffer), with the path
 *   before it ({@code .before.*}: a String or a JsonObject tree, encoded into a new buffer) alternately in
 *   the same JVM; {@code ctl.metrics254.http.*}: a scrape over HTTP on a kept connection, and the bytes
 *   the server's event loop allocated per scrape ({@code ctl.rest.ports254.eventloop.alloc}: per listing).</li>
 * </ul>
 */
public final class CtlSuite {
    private static int n;

    private CtlSuite() {
    }

    public static void run(boolean quick, BenchMain.Results out) throws Exception {
        String name = "valebctl" + ProcessHandle.current().pid() + "_" + (n++);
        ValeSwitch sw = ValeSwitches.create(name, new LearningBridge());
        try (Port a = Netmap.open(name + ":a"); Port b = Netmap.open(name + ":b");
             ControlServer server = ControlServer.start("127.0.0.1", 0, null, List.of(sw))) {
            long roundNanos = TimeUnit.MILLISECONDS.toNanos(quick ? 1000 : 2500);
            int rounds = quick ? 2 : 6;
            // warm-up, observed: the copy path, the scrape and the event stream compiled before either side is measured
            try (Observers o = new Observers(server)) {
                copy(a, b, roundNanos);
            }
            double plain = 0;
            double observed = 0;
            for (int r = 0; r < rounds; r++) {
                // ABBA: plain then observed, then observed then plain, so that a drift of the machine cancels
                boolean observedFirst = r % 2 == 1;
                for (int side = 0; side < 2; side++) {
                    if ((side == 0) == observedFirst) {
                        try (Observers o = new Observers(server)) {
                            observed += copy(a, b, roundNanos);
                        }
                    } else {
                        plain += copy(a, b, roundNanos); // switchd serves, nobody asks: its event loop sleeps in epoll
                    }
                }
            }
            out.put("ctl.copy.2p.60B.plain", plain / rounds / 1e6, "Mpps");
            out.put("ctl.copy.2p.60B.observed", observed / rounds / 1e6, "Mpps");
            out.put("ctl.overhead", observed / plain, "x");
            long[][] apply = applyLatencies(sw, a, b, quick ? 1000 : 4000);
            out.put("ctl.apply.p50", percentile(apply[0], 0.50) / 1e3, "us");
            out.put("ctl.apply.p99", percentile(apply[0], 0.99) / 1e3, "us");
            out.put("ctl.apply.housekeeper.p50", percentile(apply[1], 0.50) / 1e3, "us");
            out.put("ctl.apply.housekeeper.p99", percentile(apply[1], 0.99) / 1e3, "us");
            // the same in the forwarder's own time, which a loaded machine does not stretch: full batches sent meanwhile
            double batch = a.txRing(0).numSlots() - 1;
            out.put("ctl.apply.batches.p99", percentile(apply[2], 0.99) / batch, "batches");
            out.put("ctl.apply.housekeeper.batches.p99", percentile(apply[3], 0.99) / batch, "batches");
        } finally {
            sw.close();
        }
        long[][] rest = restLatencies(quick ? 1000 : 4000, quick ? 1000 : 4000, out);
        out.put("ctl.rest.ports254.p50", percentile(rest[0], 0.50) / 1e6, "ms");
        out.put("ctl.rest.ports254.p99", percentile(rest[0], 0.99) / 1e6, "ms");
        out.put("ctl.rest.ports254.httpclient.p50", percentile(rest[1], 0.50) / 1e6, "ms");
        out.put("ctl.rest.ports254.httpclient.p99", percentile(rest[1], 0.99) / 1e6, "ms");
    }

    /**
     * Bytes allocated and CPU nanoseconds of this thread per call of each of {@code paths}, called in
     * alternating blocks (A B C D, A B C D, ...) after a warm-up of every path, {@code calls} times each.
     * Returns {bytes, nanos} per path.
     */
    private static double[][] costs(int calls, Runnable... paths) {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (int i = 0; i < 300; i++) { // compiled before measured
            for (Runnable p : paths) {
                p.run();
            }
        }
        int block = 20;
        double[][] cost = new double[paths.length][2];
        for (int done = 0; done < calls; done += block) {
            for (int k = 0; k < paths.length; k++) {
                long a0 = mx.getCurrentThreadAllocatedBytes();
                long c0 = mx.getCurrentThreadCpuTime();
                for (int i = 0; i < block; i++) {
                    paths[k].run();
                }
                long c1 = mx.getCurrentThreadCpuTime();
                long a1 = mx.getCurrentThreadAllocatedBytes();
                cost[k][0] += a1 - a0;
                cost[k][1] += c1 - c0;
            }
        }
        int total = (calls + block - 1) / block * block;
        for (double[] c : cost) {
            c[0] /= total;
            c[1] /= total;
        }
        return cost;
    }

    /**
     * The cost of /metrics and of the page's event for {@code sw}, new path beside the path before, and
     * a scrape over HTTP on a kept connection ({@code plain}) with the allocation of the server's event
     * loop per scrape.
     */
    private static void scrapeCosts(ValeSwitch sw, PlainHttp plain, int calls, int scrapes, BenchMain.Results out) throws Exception {
        OutputPaths paths = new OutputPaths(List.of(sw));
        int[] sink = new int[1];
        double[][] c = costs(calls, () -> sink[0] += paths.metrics(false), () -> sink[0] += paths.metricsBefore(false),
                () -> sink[0] += paths.event(), () -> sink[0] += paths.eventBefore());
        if (sink[0] == 0) {
            throw new IllegalStateException("the outputs wrote nothing");
        }
        int pageBytes = paths.metrics(false);
        out.put("ctl.metrics254.bytes", pageBytes / 1024.0, "KB");
        out.put("ctl.metrics254.alloc", c[0][0] / 1024.0, "KB");
        out.put("ctl.metrics254.before.alloc", c[1][0] / 1024.0, "KB");
        out.put("ctl.metrics254.cpu", c[0][1] / 1e3, "us");
        out.put("ctl.metrics254.before.cpu", c[1][1] / 1e3, "us");
        out.put("ctl.metrics254.cpu.vs.before", c[0][1] / c[1][1], "x");
        out.put("ctl.events254.bytes", paths.event() / 1024.0, "KB");
        out.put("ctl.events254.alloc", c[2][0] / 1024.0, "KB");
        out.put("ctl.events254.before.alloc", c[3][0] / 1024.0, "KB");
        out.put("ctl.events254.cpu", c[2][1] / 1e3, "us");
        out.put("ctl.events254.before.cpu", c[3][1] / 1e3, "us");
        out.put("ctl.events254.cpu.vs.before", c[2][1] / c[3][1], "x");

        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (int i = 0; i < 300; i++) { // warm-up
            plain.get("/metrics");
        }
        long[] lat = new long[scrapes];
        long a0 = eventLoopAllocated(mx);
        for (int i = 0; i < scrapes; i++) {
            long t0 = System.nanoTime();
            int status = plain.get("/metrics");
            lat[i] = System.nanoTime() - t0;
            if (status != 200) {
                throw new IllegalStateException("GET /metrics: " + status);
            }
        }
        long a1 = eventLoopAllocated(mx);
        if (plain.length() != pageBytes) {
            out.warn("WARNING ctl.metrics254.http: the page over HTTP had " + plain.length() + " bytes, in process " + pageBytes
                    + " (a counter moved meanwhile?)");
        }
        out.put("ctl.metrics254.http.p50", percentile(lat, 0.50) / 1e6, "ms");
        out.put("ctl.metrics254.http.p99", percentile(lat, 0.99) / 1e6, "ms");
        out.put("ctl.metrics254.http.eventloop.alloc", (a1 - a0) / 1024.0 / scrapes, "KB");
    }

    /** Bytes allocated so far by this JVM's Vert.x event-loop threads (the server's one; an idle one of a closed server adds nothing). */
    private static long eventLoopAllocated(com.sun.management.ThreadMXBean mx) {
        long sum = 0;
        int found = 0;
        for (java.lang.management.ThreadInfo t : mx.getThreadInfo(mx.getAllThreadIds())) {
            if (t != null && t.getThreadName().startsWith("vert.x-eventloop-thread-")) {
                long a = mx.getThreadAllocatedBytes(t.getThreadId());
                sum += Math.max(0, a);
                found++;
            }
        }
        if (found == 0) {
            throw new IllegalStateException("no Vert.x event-loop thread in this JVM (expected: the ControlServer's)");
        }
        return sum;
    }

    /**
     * What watches the switch while it forwards: a Prometheus-like scrape of /metrics every second and
     * the live page's event stream (one snapshot a second), until closed.
     */
    private static final class Observers implements AutoCloseable {
        private final AtomicBoolean stop = new AtomicBoolean();
        private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        private final Thread events;
        private final Thread scrape;
        private final AtomicReference<Exception> failed = new AtomicReference<>();

        Observers(ControlServer server) throws Exception {
            CountDownLatch open = new CountDownLatch(1);
            events = Thread.ofPlatform().daemon().start(() -> {
                try {
                    HttpResponse<InputStream> r = client.send(HttpRequest.newBuilder(URI.create(server.url() + "api/v1/events")).build(),
                            HttpResponse.BodyHandlers.ofInputStream());
                    open.countDown();
                    try (InputStream in = r.body()) {
                        byte[] buf = new byte[8192];
                        while (!stop.get() && in.read(buf) >= 0) {
                            // the page reads each snapshot
                        }
                    }
                } catch (Exception e) {
                    if (!stop.get()) {
                        failed.set(e);
                    }
                } finally {
                    open.countDown();
                }
            });
            if (!open.await(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the event stream did not open within 10 s");
            }
            scrape = Thread.ofPlatform().daemon().start(() -> {
                try {
                    HttpRequest req = HttpRequest.newBuilder(URI.create(server.url() + "metrics")).build();
                    while (!stop.get()) {
                        HttpResponse<Void> r = client.send(req, HttpResponse.BodyHandlers.discarding());
                        if (r.statusCode() != 200) {
                            throw new IllegalStateException("GET /metrics: " + r.statusCode());
                        }
                        Thread.sleep(1000);
                    }
                } catch (InterruptedException e) {
                    // closed
                } catch (Exception e) {
                    if (!stop.get()) {
                        failed.set(e);
                    }
                }
            });
        }

        @Override
        public void close() throws Exception {
            stop.set(true);
            scrape.interrupt();
            client.shutdownNow(); // ends the event stream at once: nothing of it reaches the next round
            scrape.join();
            events.join();
            client.awaitTermination(java.time.Duration.ofSeconds(10));
            if (failed.get() != null) {
                throw new IllegalStateException("an observer failed: " + failed.get(), failed.get());
            }
        }
    }

    /** Packets per second one thread copies from a to b in {@code nanos}. */
    private static double copy(Port a, Port b, long nanos) {
        Ring t = a.txRing(0);
        Ring rr = b.rxRing(0);
        prepare(t);
        long moved = 0;
        long start = System.nanoTime();
        long end = start + nanos;
        long now;
        do {
            for (int k = 0; k < 64; k++) {
                int h = t.head();
                int i = h;
                while (t.nextSlot(i) != t.tail()) {
                    i = t.nextSlot(i);
                }
                t.advanceTo(i);
                t.sync();
                rr.sync();
                int got = 0;
                for (int j = rr.head(); j != rr.tail(); j = rr.nextSlot(j)) {
                    got++;
                }
                moved += got;
                rr.advanceTo(rr.tail());
                rr.sync();
            }
            now = System.nanoTime();
        } while (now < end);
        return moved * 1e9 / (now - start);
    }

    private static void prepare(Ring t) {
        for (int i = 0; i < t.numSlots(); i++) {
            MemorySegment m = t.memory();
            long off = t.bufOffset(i);
            m.asSlice(off, 60).fill((byte) 0);
            m.set(ValueLayout.JAVA_BYTE, off, (byte) 2);
            m.set(ValueLayout.JAVA_BYTE, off + 5, (byte) 0x0b);
            m.set(ValueLayout.JAVA_BYTE, off + 6, (byte) 2);
            m.set(ValueLayout.JAVA_BYTE, off + 11, (byte) 0x0a);
            m.set(ValueLayout.JAVA_BYTE, off + 12, (byte) 0x88);
            m.set(ValueLayout.JAVA_BYTE, off + 13, (byte) 0xb5);
            t.setLen(i, 60);
        }
    }

    /**
     * Nanoseconds from a request entering the control queue to the change done, with the copy loop
     * running: [0] light requests ({@link SwitchAdmin#submitLight}: applied by the forwarder between
     * batches, as the REST API's back-pressure, route and flush requests), [1] the same request as a
     * heavy one ({@link SwitchAdmin#submit}: only the housekeeping thread applies it), alternating.
     */
    private static long[][] applyLatencies(ValeSwitch sw, Port a, Port b, int count) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        Thread load = Thread.ofPlatform().start(() -> {
            while (!stop.get()) {
                copy(a, b, TimeUnit.MILLISECONDS.toNanos(100));
            }
        });
        SwitchPort p = sw.port("b").orElseThrow();
        SwitchPort sender = sw.port("a").orElseThrow();
        // [2], [3]: packets the copy loop forwarded between submit and apply (its counter moves once per batch)
        long[][] lat = {new long[count / 2], new long[count / 2], new long[count / 2], new long[count / 2]};
        try {
            for (int i = 0; i < count / 2 * 2; i++) {
                CountDownLatch done = new CountDownLatch(1);
                long[] applied = new long[2];
                boolean on = i % 4 < 2;
                boolean light = i % 2 == 0;
                Runnable task = () -> {
                    p.setBackPressure(on);
                    applied[0] = System.nanoTime();
                    applied[1] = sender.txCounter(SwitchFileLayout.TX_PACKETS);
                    done.countDown();
                };
                long sent = sender.txCounter(SwitchFileLayout.TX_PACKETS);
                long t0 = System.nanoTime();
                if (!(light ? SwitchAdmin.submitLight(task) : SwitchAdmin.submit(task))) {
                    throw new IllegalStateException("the control queue refused a request");
                }
                done.await();
                lat[light ? 0 : 1][i / 2] = applied[0] - t0;
                lat[light ? 2 : 3][i / 2] = applied[1] - sent;
                Thread.sleep(2);
            }
        } finally {
            stop.set(true);
            load.join();
            p.setBackPressure(false);
        }
        return lat;
    }

    /**
     * Nanoseconds of listing a switch of 254 ports over REST, request sent to response read, on a kept
     * connection: [0] with a plain HTTP/1.1 client on a blocking socket (as curl or a scraper asks:
     * the time is the server's and the loopback's), [1] with {@code java.net.http.HttpClient} (its
     * selector thread adds two thread hand-offs per request), alternating.
     */
    private static long[][] restLatencies(int count, int scrapes, BenchMain.Results out) throws Exception {
        String name = "valebctl" + ProcessHandle.current().pid() + "_" + (n++);
        ValeSwitch sw = ValeSwitches.create(name, new LearningBridge());
        try (ControlServer server = ControlServer.start("127.0.0.1", 0, null, List.of(sw));
             PlainHttp plain = new PlainHttp(server.port())) {
            for (int i = 0; i < ValeSwitch.MAX_PORTS; i++) {
                SwitchAdmin.newPersistent(name + ":p" + i);
            }
            String path = "/api/v1/switches/" + name + "/ports";
            HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            HttpRequest req = HttpRequest.newBuilder(URI.create(server.url() + path.substring(1))).build();
            for (int i = 0; i < 500; i++) { // warm-up
                c.send(req, HttpResponse.BodyHandlers.discarding());
                plain.get(path);
            }
            long[][] lat = {new long[count / 2], new long[count / 2]};
            for (int i = 0; i < count / 2 * 2; i++) {
                long t0 = System.nanoTime();
                int status;
                if (i % 2 == 0) {
                    status = plain.get(path);
                } else {
                    status = c.send(req, HttpResponse.BodyHandlers.ofByteArray()).statusCode();
                }
                lat[i % 2][i / 2] = System.nanoTime() - t0;
                if (status != 200) {
                    throw new IllegalStateException("GET ports: " + status);
                }
            }
            var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long a0 = eventLoopAllocated(mx);
            for (int i = 0; i < 500; i++) {
                plain.get(path);
            }
            out.put("ctl.rest.ports254.eventloop.alloc", (eventLoopAllocated(mx) - a0) / 1024.0 / 500, "KB");
            scrapeCosts(sw, plain, scrapes, scrapes, out);
            return lat;
        } finally {
            sw.close();
        }
    }

    /** A minimal HTTP/1.1 client: GETs on one kept connection, bodies by Content-Length, read whole. */
    private static final class PlainHttp implements AutoCloseable {
        private final Socket socket;
        private final OutputStream out;
        private final InputStream in;
        private byte[] body = new byte[1 << 18];
        private int length;

        PlainHttp(int port) throws IOException {
            socket = new Socket(InetAddress.getLoopbackAddress(), port);
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(10_000);
            out = socket.getOutputStream();
            in = new BufferedInputStream(socket.getInputStream(), 1 << 16);
        }

        /** GETs {@code path}; returns the status after reading the whole body. */
        int get(String path) throws IOException {
            out.write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String status = line();
            int length = -1;
            for (String h = line(); !h.isEmpty(); h = line()) {
                if (h.regionMatches(true, 0, "content-length:", 0, 15)) {
                    length = Integer.parseInt(h.substring(15).trim());
                }
            }
            if (length < 0) {
                throw new IOException("no Content-Length in the response to GET " + path + " (" + status + ")");
            }
            if (length > body.length) {
                body = new byte[length];
            }
            in.readNBytes(body, 0, length);
            this.length = length;
            return Integer.parseInt(status.split(" ")[1]);
        }

        /** The last body's length. */
        int length() {
            return length;
        }

        private String line() throws IOException {
            StringBuilder b = new StringBuilder();
            for (int c = in.read(); c != '\n'; c = in.read()) {
                if (c < 0) {
                    throw new EOFException("the server closed the connection");
                }
                if (c != '\r') {
                    b.append((char) c);
                }
            }
            return b.toString();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static double percentile(long[] lat, double q) {
        long[] s = lat.clone();
        Arrays.sort(s);
        return s[Math.max(0, Math.min(s.length - 1, (int) Math.ceil(s.length * q) - 1))];
    }
}
