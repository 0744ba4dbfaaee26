package io.jnetmap.core;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PortNameTest {
    @Test
    void nicAllRings() {
        PortName n = PortName.parse("netmap:eth0");
        assertEquals(PortName.Body.NETMAP, n.body());
        assertEquals("eth0", n.base());
        assertEquals(PortName.Mode.ALL_NIC, n.mode());
        assertEquals("netmap", n.kind());
        assertEquals("netmap:eth0", n.parent());
    }

    @Test
    void nicOneRingHostRingsAndBoth() {
        PortName one = PortName.parse("netmap:eth0-3");
        assertEquals(PortName.Mode.ONE_NIC, one.mode());
        assertEquals(3, one.ringId());
        assertEquals(PortName.Mode.SW, PortName.parse("netmap:eth0^").mode());
        PortName sw1 = PortName.parse("netmap:eth0^1");
        assertEquals(PortName.Mode.ONE_SW, sw1.mode());
        assertEquals(1, sw1.ringId());
        assertEquals(PortName.Mode.NIC_SW, PortName.parse("netmap:veth.1*").mode());
        assertEquals("veth.1", PortName.parse("netmap:veth.1*").base());
    }

    @Test
    void valePorts() {
        PortName n = PortName.parse("vale0:a");
        assertEquals(PortName.Body.VALE, n.body());
        assertEquals("vale0", n.switchName());
        assertEquals("a", n.base());
        assertEquals("vale", n.kind());
        PortName dflt = PortName.parse("vale:port_1");
        assertEquals("vale", dflt.switchName());
        assertEquals("port_1", dflt.base());
        assertEquals(PortName.Mode.ONE_NIC, PortName.parse("valeX:p-1").mode());
    }

    @Test
    void pipes() {
        PortName m = PortName.parse("pipe{1");
        assertEquals(PortName.Mode.PIPE_MASTER, m.mode());
        assertEquals("1", m.pipeId());
        assertEquals("pipe", m.parent());
        assertEquals("pipe", m.kind());
        PortName s = PortName.parse("vale0:a}x2");
        assertEquals(PortName.Mode.PIPE_SLAVE, s.mode());
        assertEquals("vale0:a", s.parent());
        assertEquals("x2", s.pipeId());
        assertEquals("pipe", s.kind());
        assertEquals("netmap:eth0", PortName.parse("netmap:eth0{3").parent());
        assertEquals(PortName.Body.BARE, PortName.parse("valet{1").body());
    }

    @Test
    void monitorsAndFlags() {
        PortName r = PortName.parse("netmap:eth0/r");
        assertEquals("monitor", r.kind());
        assertTrue(r.hasFlag(PortName.MONITOR_RX));
        PortName rt = PortName.parse("vale0:a/tr");
        assertTrue(rt.hasFlag(PortName.MONITOR_RX) && rt.hasFlag(PortName.MONITOR_TX));
        assertTrue(PortName.parse("pipe{2/z").hasFlag(PortName.ZCOPY_MONITOR));
        assertEquals("monitor", PortName.parse("pipe{2/z").kind(), "a monitor of a pipe end");
        assertTrue(PortName.parse("netmap:eth0-1/x").hasFlag(PortName.EXCLUSIVE));
        assertEquals("netmap", PortName.parse("netmap:eth0/xR").kind());
    }

    @Test
    void options() {
        PortName n = PortName.parse("vale0:a@conf:rings=2,slots=512,extra-bufs=64@share=vale0:b");
        assertEquals(2, n.conf("rings", 1));
        assertEquals(512, n.conf("tx-slots", "slots", 1024));
        assertEquals(1024, n.conf("rx-rings", 1024));
        assertEquals(64, n.conf("extra-bufs", 0));
        assertEquals("vale0:b", n.option("share"));
        assertEquals("vale0:a", n.withoutOptions());
        assertEquals("xdp", PortName.parse("netmap:eth0@backend=xdp").option("backend"));
        assertNull(PortName.parse("netmap:eth0").option("backend"));
    }

    @Test
    void pipeCapacityIsAConfKey() {
        PortName n = PortName.parse("pipe{1@conf:pipes=16,slots=64");
        assertEquals(16, n.conf("pipes", 4));
        assertEquals(64, n.conf("slots", 1024));
        assertEquals(4, PortName.parse("pipe}1").conf("pipes", 4));
        assertEquals(17, bad("pipe{1@conf:pipes").position(), "a key needs '=N'");
    }

    @Test
    void backPressureOption() {
        PortName n = PortName.parse("vale0:a@backpressure=on@conf:slots=64");
        assertEquals("on", n.option("backpressure"));
        assertEquals(64, n.conf("slots", 1024));
        assertEquals("vale0:a", n.withoutOptions());
        assertNull(PortName.parse("vale0:a").option("backpressure"));
        PortNameException e = bad("vale0:a@backpressure=o-n");
        assertEquals(22, e.position());
        assertTrue(e.expected().contains("word"), e.getMessage());
        assertEquals(8, bad("vale0:a@backpressur=on").position());
        assertTrue(bad("vale0:a@backpressure=on@backpressure=off").expected().contains("once"));
    }

    private static PortNameException bad(String name) {
        return assertThrows(PortNameException.class, () -> PortName.parse(name));
    }

    @Test
    void errorsSayWhatAndWhere() {
        PortNameException e = bad("netmap:eth0-x");
        assertEquals(12, e.position());
        assertTrue(e.expected().contains("ring number"), e.getMessage());
        assertTrue(e.getMessage().contains("at 12"), e.getMessage());

        assertEquals(7, bad("netmap:").position());
        assertTrue(bad("netmap:").expected().contains("interface name"));
        assertEquals(4, bad("pipe").position());
        assertTrue(bad("pipe").expected().contains("{ID"));
        assertEquals(6, bad("vale0:").position());
        assertEquals(3, bad("foo:bar").position());
        assertTrue(bad("foo:bar").expected().contains("unknown port kind"));
        assertEquals(7, bad("vale0:a^").position(), "host rings only on netmap ports");
        assertEquals(13, bad("netmap:eth0/rq").position());
        assertEquals(14, bad("netmap:eth0/zrr").position(), "z combines with r or t (/zr, /zt), each flag once");
        assertEquals(12, bad("netmap:eth0@frob=1").position());
        assertEquals(17, bad("netmap:eth0@conf:slats=1").position());
        assertEquals(23, bad("netmap:eth0@conf:slots=").position());
        assertEquals(18, bad("vale0:a@share=pipe").position(), "share= takes a full port name");
        assertEquals(11, bad("netmap:eth0 ").position());
        assertEquals(7, bad("pipe{1x!").position());
        assertEquals(0, bad("").position());
        assertEquals(0, bad(null).position());
    }
}
