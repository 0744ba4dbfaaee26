package io.jnetmap.test;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.nic.Frames;
import io.jnetmap.core.nic.NetLab;
import io.jnetmap.sys.NetNamespace;
import io.jnetmap.vale.AttachedPort;
import io.jnetmap.vale.SwitchAdmin;
import io.jnetmap.vale.ValeSwitch;
import io.jnetmap.vale.ValeSwitches;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code vale-ctl -a valeS:IF} on a NIC: the interface's AF_XDP port becomes a switch port driven by a
 * polling thread, and frames flow between the far end of a veth pair and a VALE port of the switch,
 * both ways; {@code -h} also attaches the host stack (TAP {@code IF^}), which then answers ARP from
 * the wire through the switch; {@code -d} detaches and the interface is free again. Needs root.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ValeNicAttachTest {
    @RegisterExtension
    static final NetLab.Fixture NET = NetLab.fixture(1);
    private static final AtomicInteger SWITCHES = new AtomicInteger();

    @SuppressWarnings("try")
    private static List<AttachedPort> attach(String arg, boolean host) {
        try (NetNamespace ignored = NetNamespace.enter(NET.veth().nsB())) {
            return SwitchAdmin.attach(arg, host);
        }
    }

    private static boolean xdpAttached() {
        return NetLab.inNs(NET.veth().nsB(), "ip", "-d", "link", "show", NET.veth().b()).contains("xdp");
    }

    @Test
    void anAttachedNicForwardsBothWaysAndDetaches() {
        String sw = "valenic" + SWITCHES.incrementAndGet();
        String nic = NET.veth().b();
        List<AttachedPort> attached = attach(sw + ":" + nic, false);
        assertEquals(1, attached.size());
        assertEquals(nic, attached.get(0).name());
        assertTrue(attached.get(0).backend().startsWith("af_xdp/"), attached.get(0).backend());
        assertTrue(xdpAttached());
        byte[] wireMac = Frames.mac(NET.veth().macA());
        byte[] portMac = Frames.mac("02:6a:00:00:77:01");
        try (Port wire = NetLab.open(NET.veth().nsA(), "netmap:" + NET.veth().a());
             Port vp = Netmap.open(sw + ":p")) {
            ValeSwitch s = ValeSwitches.get(sw).orElseThrow();
            assertEquals(2, s.portList().size());
            // from the wire, to a MAC the switch does not know yet: flooded to the VALE port
            Frames.sendNumbered(wire, portMac, wireMac, 0, 200);
            Frames.expectNumbered(vp, 0, 200);
            // back, to the wire's MAC, learned on the NIC's port
            Frames.sendNumbered(vp, wireMac, portMac, 1000, 200);
            Frames.expectNumbered(wire, 1000, 200);
        }
        SwitchAdmin.detach(sw + ":" + nic);
        assertFalse(xdpAttached(), "the NIC's port closed with -d: its XDP program is gone");
        closeSwitch(sw);
    }

    @Test
    void withHostTheHostStackAnswersThroughTheSwitch() {
        String sw = "valenic" + SWITCHES.incrementAndGet();
        String nic = NET.veth().b();
        List<AttachedPort> attached = attach(sw + ":" + nic, true);
        assertEquals(List.of(nic, nic + "^"), attached.stream().map(AttachedPort::name).toList());
        assertEquals("tap", attached.get(1).backend());
        try (Port wire = NetLab.open(NET.veth().nsA(), "netmap:" + NET.veth().a())) {
            NetLab.inNs(NET.veth().nsB(), "ip", "addr", "add", "10.79.0.2/24", "dev", nic + "^");
            byte[] mac = Frames.mac(NET.veth().macA());
            byte[] ip = {10, 79, 0, 1};
            byte[] hostIp = {10, 79, 0, 2};
            Frames.send(wire, Frames.arpRequest(mac, ip, hostIp));
            byte[] reply = Frames.receive(wire, f -> Frames.type(f) == 0x0806 && (f[21] & 0xff) == 2);
            assertTrue(Arrays.equals(hostIp, Frames.slice(reply, 28, 4)), "the host behind " + nic + "^ answered");
        }
        SwitchAdmin.detach(sw + ":" + nic + "^");
        SwitchAdmin.detach(sw + ":" + nic);
        assertFalse(NetLab.inNs(NET.veth().nsB(), "ip", "-br", "link").contains(nic + "^"), "the TAP went with -d");
        assertFalse(xdpAttached());
        closeSwitch(sw);
    }

    private static void closeSwitch(String sw) {
        ValeSwitches.get(sw).ifPresent(ValeSwitch::close);
    }
}
