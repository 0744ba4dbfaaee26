package io.jnetmap.bench.ctl;

import io.jnetmap.bench.BenchMain;
import io.jnetmap.control.ControlServer;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.vale.SwitchAdmin;
import io.jnetmap.vale.SwitchPort;
import io.jnetmap.vale.ValeSwitch;
import io.jnetmap.vale.ValeSwitches;
import io.jnetmap.vale.lookup.LearningBridge;

import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Suite {@code ctl}: what the control plane costs and how fast it answers.
 * <ul>
 *   <li>{@code ctl.overhead}: one thread copying 60-byte frames between two VALE ports (as
 *   {@code vale.copy.2p.60B}) with switchd serving, a 1 Hz scrape of /metrics and the page's event
 *   stream open, over the same without (alternating rounds, in one run); the two rates are
 *   {@code ctl.copy.2p.60B.observed} and {@code ctl.copy.2p.60B.plain};</li>
 *   <li>{@code ctl.rest.ports254.p99}: latency of {@code GET /api/v1/switches/S/ports} on a switch of 254 ports;</li>
 *   <li>{@code ctl.apply.p99}: from a control request entering the queue to its change being visible to
 *   forwarders (a port's back-pressure flag), while the copy loop runs.</li>
 * </ul>
 */
public final class CtlSuite {
    private static int n;

    private CtlSuite() {
    }

    public static void run(boolean quick, BenchMain.Results out) throws Exception {
        String name = "valebctl" + ProcessHandle.current().pid() + "_" + (n++);
        ValeSwitch sw = ValeSwitches.create(name, new LearningBridge());
        try (Port a = Netmap.open(name + ":a"); Port b = Netmap.open(name + ":b")) {
            long roundNanos = TimeUnit.MILLISECONDS.toNanos(quick ? 1000 : 5000);
            int rounds = quick ? 1 : 3;
            copy(a, b, roundNanos); // warm-up: the copy path compiled before either side is measured
            double plain = 0;
            double observed = 0;
            for (int r = 0; r < rounds; r++) {
                plain += copy(a, b, roundNanos);
                try (ControlServer server = ControlServer.start("127.0.0.1", 0, null, List.of(sw))) {
                    AtomicBoolean stop = new AtomicBoolean();
                    Thread watchers = observe(server, stop);
                    observed += copy(a, b, roundNanos);
                    stop.set(true);
                    watchers.join();
                }
            }
            out.put("ctl.copy.2p.60B.plain", plain / rounds / 1e6, "Mpps");
            out.put("ctl.copy.2p.60B.observed", observed / rounds / 1e6, "Mpps");
            out.put("ctl.overhead", observed / plain, "x");
            out.put("ctl.apply.p99", applyP99(sw, a, b, quick ? 200 : 2000) / 1e3, "us");
        } finally {
            sw.close();
        }
        out.put("ctl.rest.ports254.p99", restP99(quick ? 200 : 2000) / 1e6, "ms");
    }

    /** A 1 Hz scraper of /metrics and a reader of /api/v1/events (the page) until {@code stop}. */
    private static Thread observe(ControlServer server, AtomicBoolean stop) throws Exception {
        HttpClient c = HttpClient.newHttpClient();
        CountDownLatch open = new CountDownLatch(1);
        Thread sse = Thread.ofPlatform().daemon().start(() -> {
            try {
                HttpResponse<InputStream> r = c.send(HttpRequest.newBuilder(URI.create(server.url() + "api/v1/events")).build(),
                        HttpResponse.BodyHandlers.ofInputStream());
                open.countDown();
                try (InputStream in = r.body()) {
                    byte[] buf = new byte[8192];
                    while (!stop.get() && in.read(buf) >= 0) {
                        // the page reads each snapshot
                    }
                }
            } catch (Exception e) {
                open.countDown();
            }
        });
        open.await(5, TimeUnit.SECONDS);
        return Thread.ofPlatform().start(() -> {
            try {
                while (!stop.get()) {
                    c.send(HttpRequest.newBuilder(URI.create(server.url() + "metrics")).build(), HttpResponse.BodyHandlers.discarding());
                    Thread.sleep(1000);
                }
            } catch (Exception ignored) {
                // the round ended
            }
            sse.interrupt();
        });
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

    /** p99 nanoseconds from {@link SwitchAdmin#submit} to the change done, with the copy loop running. */
    private static double applyP99(ValeSwitch sw, Port a, Port b, int count) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        Thread load = Thread.ofPlatform().start(() -> {
            while (!stop.get()) {
                copy(a, b, TimeUnit.MILLISECONDS.toNanos(100));
            }
        });
        SwitchPort p = sw.port("b").orElseThrow();
        long[] lat = new long[count];
        try {
            for (int i = 0; i < count; i++) {
                CountDownLatch done = new CountDownLatch(1);
                long[] applied = new long[1];
                boolean on = i % 2 == 0;
                long t0 = System.nanoTime();
                if (!SwitchAdmin.submit(() -> {
                    p.setBackPressure(on);
                    applied[0] = System.nanoTime();
                    done.countDown();
                })) {
                    throw new IllegalStateException("the control queue refused a request");
                }
                done.await();
                lat[i] = applied[0] - t0;
                Thread.sleep(2);
            }
        } finally {
            stop.set(true);
            load.join();
            p.setBackPressure(false);
        }
        return p99(lat);
    }

    /** p99 nanoseconds of listing a switch of 254 ports over REST. */
    private static double restP99(int count) throws Exception {
        String name = "valebctl" + ProcessHandle.current().pid() + "_" + (n++);
        ValeSwitch sw = ValeSwitches.create(name, new LearningBridge());
        try (ControlServer server = ControlServer.start("127.0.0.1", 0, null, List.of(sw))) {
            for (int i = 0; i < ValeSwitch.MAX_PORTS; i++) {
                SwitchAdmin.newPersistent(name + ":p" + i);
            }
            HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            HttpRequest req = HttpRequest.newBuilder(URI.create(server.url() + "api/v1/switches/" + name + "/ports")).build();
            for (int i = 0; i < 500; i++) { // warm-up
                c.send(req, HttpResponse.BodyHandlers.discarding());
            }
            long[] lat = new long[count];
            for (int i = 0; i < count; i++) {
                long t0 = System.nanoTime();
                HttpResponse<byte[]> r = c.send(req, HttpResponse.BodyHandlers.ofByteArray());
                lat[i] = System.nanoTime() - t0;
                if (r.statusCode() != 200) {
                    throw new IllegalStateException("GET ports: " + r.statusCode());
                }
            }
            return p99(lat);
        } finally {
            sw.close();
        }
    }

    private static double p99(long[] lat) {
        long[] s = lat.clone();
        Arrays.sort(s);
        return s[Math.min(s.length - 1, (int) Math.ceil(s.length * 0.99) - 1)];
    }
}
