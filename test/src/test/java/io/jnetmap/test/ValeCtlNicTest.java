package io.jnetmap.test;

import io.jnetmap.core.Port;
import io.jnetmap.core.nic.Frames;
import io.jnetmap.core.nic.NetLab;
import io.jnetmap.examples.Main;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The command line, as users run it: {@code bin/jnetmap vale-ctl --host S -h S:IF} in the interface's
 * namespace hosts a switch with the NIC and its host stack attached; ARP from the far end of the veth
 * is answered by the host stack through the switch; {@code vale-ctl -d} from another process detaches
 * both, and the interface and the TAP are free again. Needs root.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ValeCtlNicTest {
    @RegisterExtension
    static final NetLab.Fixture NET = NetLab.fixture(1);

    private static Process jnetmap(String ns, Path log, String... args) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>();
        if (ns != null) {
            cmd.addAll(List.of("ip", "netns", "exec", ns));
        }
        cmd.addAll(List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Main.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static String run(String ns, String... args) throws Exception {
        Path log = Files.createTempFile("jnetmap-valectl", ".txt");
        try {
            Process p = jnetmap(ns, log, args);
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "vale-ctl finished");
            String out = Files.readString(log);
            assertEquals(0, p.exitValue(), out);
            return out;
        } finally {
            Files.deleteIfExists(log);
        }
    }

    private static boolean xdpAttached() {
        return NetLab.inNs(NET.veth().nsB(), "ip", "-d", "link", "show", NET.veth().b()).contains("xdp");
    }

    @Test
    void hostAttachDetachFromTheCommandLine() throws Exception {
        String sw = "valecli" + ProcessHandle.current().pid() % 100000;
        String nic = NET.veth().b();
        Path hostLog = Files.createTempFile("jnetmap-valehost", ".txt");
        Process host = jnetmap(NET.veth().nsB(), hostLog, "vale-ctl", "--host", sw, "-h", sw + ":" + nic);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.readString(hostLog).contains("hosting " + sw)) {
                assertTrue(host.isAlive() && System.nanoTime() < deadline, "the host started: " + Files.readString(hostLog));
                Thread.sleep(50);
            }
            String started = Files.readString(hostLog);
            assertTrue(started.contains("attached " + sw + ":" + nic + " (af_xdp/copy/"), started);
            assertTrue(started.contains("attached " + sw + ":" + nic + "^ (tap)"), started);
            assertTrue(xdpAttached());

            NetLab.inNs(NET.veth().nsB(), "ip", "addr", "add", "10.80.0.2/24", "dev", nic + "^");
            byte[] mac = Frames.mac(NET.veth().macA());
            byte[] ip = {10, 80, 0, 1};
            byte[] hostIp = {10, 80, 0, 2};
            try (Port wire = NetLab.open(NET.veth().nsA(), "netmap:" + NET.veth().a())) {
                Frames.send(wire, Frames.arpRequest(mac, ip, hostIp));
                byte[] reply = Frames.receive(wire, f -> Frames.type(f) == 0x0806 && (f[21] & 0xff) == 2);
                assertTrue(Arrays.equals(hostIp, Frames.slice(reply, 28, 4)), "the host stack answered through " + sw);
            }
            String listed = run(null, "vale-ctl", "-l", sw + ":" + nic);
            assertTrue(listed.contains(nic) && listed.contains("af_xdp/"), listed);

            run(null, "vale-ctl", "-d", sw + ":" + nic + "^");
            run(null, "vale-ctl", "-d", sw + ":" + nic);
            assertFalse(xdpAttached(), "detached: the NIC's XDP program is gone");
            assertFalse(NetLab.inNs(NET.veth().nsB(), "ip", "-br", "link").contains(nic + "^"), "and the TAP");
        } finally {
            host.destroy();
            if (!host.waitFor(10, TimeUnit.SECONDS)) {
                host.destroyForcibly();
            }
            Files.deleteIfExists(hostLog);
        }
    }
}
