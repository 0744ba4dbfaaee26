package io.jnetmap.test;

import io.jnetmap.examples.Main;
import io.jnetmap.vale.ctl.Command;
import io.jnetmap.vale.ctl.ValeCtl;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code bin/jnetmap switchd} as a user runs it: prints its URL, serves the API, vale-ctl works beside it, stops on SIGTERM. */
class SwitchdToolTest {
    private static List<String> java(String... args) {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-Xmx256m", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    @Test
    void servesAndStops() throws Exception {
        String sw = "valesd" + ProcessHandle.current().pid();
        Path err = Files.createTempFile("switchd", ".err");
        Process p = new ProcessBuilder(java("switchd", "--http", "127.0.0.1:0", sw)).redirectError(err.toFile()).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            assertTrue(line != null, "switchd printed a line; stderr: " + Files.readString(err));
            Matcher m = Pattern.compile("on (http://127\\.0\\.0\\.1:\\d+/)").matcher(line);
            assertTrue(m.find(), line);
            String url = m.group(1);
            HttpClient c = HttpClient.newHttpClient();
            HttpResponse<String> r = c.send(HttpRequest.newBuilder(URI.create(url + "api/v1/switches")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertTrue(r.body().contains("\"" + sw + "\""), r.body());
            // vale-ctl's mailbox reaches the same switch
            ValeCtl.remote(sw, Command.NEW_PORT, sw + ":p", Duration.ofSeconds(10));
            r = c.send(HttpRequest.newBuilder(URI.create(url + "api/v1/switches/" + sw + "/ports/p")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(20, TimeUnit.SECONDS), "switchd stops on SIGTERM");
            assertTrue(ValeCtl.find(sw).isEmpty(), "its switch is gone");
            String e = Files.readString(err);
            assertFalse(e.contains("WARNING"), "no warning (Unsafe, native access): " + e);
        } finally {
            p.destroyForcibly();
            Files.deleteIfExists(err);
        }
    }

    @Test
    void routesFromTheCommandLineAreListed() throws Exception {
        String sw = "valesdr" + ProcessHandle.current().pid();
        Process p = new ProcessBuilder(java("switchd", "--http", "127.0.0.1:0", "-L", "l3", "--route", "10.1.0.0/16,b,02:00:00:00:00:0b",
                "--route", "10.2.3.0/24,c,02:00:00:00:00:0c", sw)).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            Matcher m = Pattern.compile("on (http://127\\.0\\.0\\.1:\\d+/)").matcher(String.valueOf(line));
            assertTrue(m.find(), line);
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(m.group(1) + "api/v1/switches/" + sw
                    + "/routes")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("{\"routes\":[{\"prefix\":\"10.1.0.0/16\",\"port\":\"b\",\"mac\":\"02:00:00:00:00:0b\"},"
                    + "{\"prefix\":\"10.2.3.0/24\",\"port\":\"c\",\"mac\":\"02:00:00:00:00:0c\"}]}", r.body().strip());
        } finally {
            p.destroy();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        Process bad = new ProcessBuilder(java("switchd", "--http", "127.0.0.1:0", "--route", "10.1.0.0/16,b,02:00:00:00:00:0b", sw))
                .redirectErrorStream(true).start();
        String said = new String(bad.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(bad.waitFor(30, TimeUnit.SECONDS));
        assertEquals(2, bad.exitValue(), said);
        assertTrue(said.contains("--route needs -L l3"), said);
        bad = new ProcessBuilder(java("switchd", "--http", "127.0.0.1:0", "-L", "l3", "--route", "10.1.0.0/33,b,02:00:00:00:00:0b", sw))
                .redirectErrorStream(true).start();
        said = new String(bad.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(bad.waitFor(30, TimeUnit.SECONDS));
        assertEquals(2, bad.exitValue(), said);
        assertTrue(said.contains("expected: CIDR,PORT,MAC"), said);
    }

    @Test
    void refusesBadAddresses() throws Exception {
        Process p = new ProcessBuilder(java("switchd", "--http", "nonsense")).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(2, p.exitValue(), out);
        assertTrue(out.contains("expected: ADDR:PORT"), out);
        p = new ProcessBuilder(java("switchd", "--http", "0.0.0.0:0", "valesdx" + ProcessHandle.current().pid())).redirectErrorStream(true).start();
        out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(1, p.exitValue(), out);
        assertTrue(out.contains("not loopback"), out);
    }
}
