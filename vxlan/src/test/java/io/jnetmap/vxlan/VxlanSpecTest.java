package io.jnetmap.vxlan;

import io.jnetmap.core.NetmapException;
import io.jnetmap.core.PortName;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VxlanSpecTest {
    @Test
    void parsesTheFullSyntaxAndDefaults() {
        VxlanSpec s = VxlanSpec.parse("local=10.0.0.1:8472,vni=42,remote=10.0.0.2,remote=10.0.0.3,mtu=9000,ttl=8,age=5");
        assertEquals(0x0a000001, s.localIp());
        assertEquals(8472, s.localPort());
        assertEquals(8472, s.dstPort(), "dstport defaults to the local port");
        assertEquals(42, s.vni());
        assertArrayEquals(new int[] {0x0a000002, 0x0a000003}, s.remotes());
        assertEquals(9000 - 36, s.maxFrame());
        assertEquals(8, s.ttl());
        assertEquals(5, s.ageSeconds());
        VxlanSpec d = VxlanSpec.parse("local=0.0.0.0,vni=0,dstport=4790");
        assertEquals(4789, d.localPort());
        assertEquals(4790, d.dstPort());
        assertEquals(1464, d.maxFrame());
        assertEquals(0, d.remotes().length);
    }

    @Test
    void badValuesSayWhatWasExpected() {
        assertTrue(assertThrows(NetmapException.class, () -> VxlanSpec.parse("local=10.0.0.1:0,vni=1")).getMessage()
                .contains("local=10.0.0.1:0 (expected: a UDP port 1..65535 after ':')"));
        assertTrue(assertThrows(NetmapException.class, () -> VxlanSpec.parse("local=10.0.0.1,vni=x")).getMessage()
                .contains("vni=x (expected: 0..16777215)"));
        assertTrue(assertThrows(NetmapException.class, () -> VxlanSpec.parse("local=10.0.0.1,vni=1,remote=0.0.0.0"))
                .getMessage().contains("remote=0.0.0.0"));
        assertTrue(assertThrows(NetmapException.class, () -> VxlanSpec.parse("local=10.0.0.1,vni=1,,")).getMessage()
                .contains("key=value"));
        assertTrue(assertThrows(NetmapException.class, () -> VxlanSpec.parse("vni=1")).getMessage().contains("local=ADDR"));
        assertTrue(assertThrows(NetmapException.class, () -> VxlanSpec.parse("local=10.0.0.1")).getMessage().contains("vni=N"));
    }

    @Test
    void portNamesCarryTheSpecToTheProvider() {
        PortName n = PortName.parse("vxlan:local=10.0.0.1:4789,vni=7,remote=10.0.0.2@conf:slots=256");
        assertEquals("vxlan", n.kind());
        assertEquals("local=10.0.0.1:4789,vni=7,remote=10.0.0.2", n.base());
        assertEquals(256, n.conf("slots", 0));
        assertEquals("vxlan:local=10.0.0.1:4789,vni=7,remote=10.0.0.2", n.parent());
    }

    @Test
    void theMacTableLearnsLooksUpAndAges() {
        MacTable t = new MacTable(64, 10);
        long mac = 0x02_00_00_00_00_01L;
        assertEquals(0, t.lookup(mac, 100));
        t.learn(mac, 0x0a000002, 100);
        assertEquals(0x0a000002, t.lookup(mac, 105));
        t.learn(mac, 0x0a000003, 106);
        assertEquals(0x0a000003, t.lookup(mac, 110), "moved to another remote");
        assertEquals(0, t.lookup(mac, 117), "aged out after 10 s without traffic");
        MacTable big = new MacTable(256, 10);
        for (long m = 1; m <= 200; m++) {
            big.learn(m << 8, (int) m, 200);
        }
        int found = 0;
        for (long m = 1; m <= 200; m++) {
            if (big.lookup(m << 8, 200) == (int) m) {
                found++;
            }
        }
        assertTrue(found >= 150, "most of 200 entries fit a 256-entry table (8 probes, evicting): " + found);
        assertEquals("02:00:00:00:00:01", MacTable.macText(mac));
    }
}
