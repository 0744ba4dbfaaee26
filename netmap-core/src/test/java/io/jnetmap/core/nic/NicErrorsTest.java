package io.jnetmap.core.nic;

import io.jnetmap.core.NetmapException;
import io.jnetmap.core.Port;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a user sees when a NIC or host-stack port cannot be opened: no such interface, not enough
 * privilege (a second JVM started without the capabilities), an interface or TAP already in use (by
 * this process and by another one), and how the automatic backend choice falls back. Needs root.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NicErrorsTest {
    @RegisterExtension
    static final NetLab.Fixture NET = NetLab.fixture(1);



    /** Runs {@link NicOpenChild} for {@code port} inside namespace {@code ns}, behind {@code wrapper}; returns its output. */
    private static String child(String ns, List<String> wrapper, String port, int expectExit) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        cmd.addAll(wrapper);
        cmd.addAll(List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                NicOpenChild.class.getName(), port));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child finished");
            assertEquals(expectExit, p.exitValue(), out);
            return out;
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void aMissingInterfaceIsNamed() {
        NetmapException.NoSuchInterface e = assertThrows(NetmapException.NoSuchInterface.class,
                () -> NetLab.open(NET.veth().nsA(), "netmap:jnnosuch0"));
        assertTrue(e.getMessage().contains("no network interface \"jnnosuch0\" in the network namespace of process " + ProcessHandle.current().pid()), e.getMessage());
        assertThrows(NetmapException.NoSuchInterface.class, () -> NetLab.open(NET.veth().nsA(), "netmap:" + NET.veth().b() + "@backend=packet"),
                "the peer end lives in the other namespace");
    }

    @Test
    void aSecondPortOnTheSameQueueIsBusy() {
        try (Port first = NetLab.open(NET.veth().nsA(), "netmap:" + NET.veth().a())) {
            assertTrue(first.backend().startsWith("af_xdp/"), first.backend());
            NetmapException.PortBusy e = assertThrows(NetmapException.PortBusy.class,
                    () -> NetLab.open(NET.veth().nsA(), "netmap:" + NET.veth().a() + "-0"));
            assertTrue(e.getMessage().contains("queue 0 of " + NET.veth().a() + " is already in use"), e.getMessage());
        }
        // closed: the queue is free again
        try (Port again = NetLab.open(NET.veth().nsA(), "netmap:" + NET.veth().a() + "-0")) {
            assertTrue(again.backend().startsWith("af_xdp/"), again.backend());
        }
    }

    @Test
    void anInterfaceAnotherProcessUsesIsBusy() throws Exception {
        try (Port mine = NetLab.open(NET.veth().nsB(), "netmap:" + NET.veth().b())) {
            assertTrue(mine.backend().startsWith("af_xdp/"), mine.backend());
            String out = child(NET.veth().nsB(), List.of(), "netmap:" + NET.veth().b() + "@backend=xdp", 3);
            assertTrue(out.contains("FAILED " + NetmapException.PortBusy.class.getName()), out);
            assertTrue(out.contains(NET.veth().b() + " is in use"), out);
            assertTrue(out.contains("xdp off"), "says how to detach: " + out);
        }
        // the other process's program went away with it, and ours with our close: the interface is free
        String out = child(NET.veth().nsB(), List.of(), "netmap:" + NET.veth().b() + "@backend=xdp", 0);
        assertTrue(out.contains("OPENED af_xdp/copy/"), out);
    }

    @Test
    void aTapAnotherProcessUsesIsBusy() throws Exception {
        String tap = NetLab.uniqueName("t");
        try (Port mine = NetLab.open(NET.veth().nsA(), "netmap:" + tap + "^")) {
            assertEquals("tap", mine.backend());
            String out = child(NET.veth().nsA(), List.of(), "netmap:" + tap + "^", 3);
            assertTrue(out.contains("FAILED " + NetmapException.PortBusy.class.getName()), out);
            assertTrue(out.contains("TAP device " + tap + " is in use"), out);
        }
    }

    @Test
    void withoutCapabilitiesTheMessageSaysWhichAreNeeded() throws Exception {
        List<String> noCaps = List.of("setpriv", "--inh-caps=-all", "--bounding-set=-net_raw,-net_admin,-bpf,-sys_admin",
                "--");
        String out = child(NET.veth().nsA(), noCaps, "netmap:" + NET.veth().a(), 3);
        assertTrue(out.contains("FAILED " + NetmapException.PermissionDenied.class.getName()), out);
        assertTrue(out.contains("need CAP_NET_RAW"), out);
        assertTrue(out.contains("setcap"), out);

        out = child(NET.veth().nsA(), noCaps, "netmap:" + tapName() + "^", 3);
        assertTrue(out.contains("FAILED " + NetmapException.PermissionDenied.class.getName()), out);
        assertTrue(out.contains("TAP devices need CAP_NET_ADMIN"), out);
    }

    @Test
    void withoutBpfPrivilegeTheAutomaticChoiceFallsBackToAfPacket() throws Exception {
        List<String> noBpf = List.of("setpriv", "--inh-caps=-all", "--bounding-set=-net_admin,-bpf,-sys_admin", "--");
        String out = child(NET.veth().nsA(), noBpf, "netmap:" + NET.veth().a(), 0);
        assertTrue(out.contains("OPENED af_packet/tpacket_v3"), "fell back, and says so: " + out);
        out = child(NET.veth().nsA(), noBpf, "netmap:" + NET.veth().a() + "@backend=xdp", 3);
        assertTrue(out.contains("AF_XDP cannot be used"), out);
        assertTrue(out.contains("needs CAP_BPF and CAP_NET_ADMIN"), out);
    }

    private static String tapName() {
        return NetLab.uniqueName("t");
    }

    @Test
    void badOptionsAreRefusedBeforeAnythingIsOpened() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NetLab.open(NET.veth().nsA(), "netmap:" + NET.veth().a() + "@backend=dpdk"));
        assertTrue(e.getMessage().contains("backend=dpdk (expected: xdp or packet)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> NetLab.open(NET.veth().nsA(), "netmap:" + NET.veth().a() + "-3"));
        assertTrue(e.getMessage().contains("ring=3 (expected: 0..0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> NetLab.open(NET.veth().nsA(), "netmap:" + NET.veth().a() + "@conf:rings=4"));
        assertTrue(e.getMessage().contains("one ring pair per queue"), e.getMessage());
    }
}
