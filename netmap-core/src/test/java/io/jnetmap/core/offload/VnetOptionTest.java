package io.jnetmap.core.offload;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.PortName;
import io.jnetmap.core.PortNameException;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code @vnet=} port-name option, the bridge's choice of names, and the header's accessors. */
class VnetOptionTest {
    @Test
    void vnetOptionTakesTheThreeHeaderLengths() {
        assertEquals(0, PortName.parse("netmap:eth0").vnetHdrLen());
        assertEquals(10, PortName.parse("netmap:eth0@vnet=10").vnetHdrLen());
        assertEquals(12, PortName.parse("netmap:eth0-1@vnet=12@backend=packet").vnetHdrLen());
        assertEquals(0, PortName.parse("netmap:eth0@vnet=0").vnetHdrLen());
        PortNameException e = assertThrows(PortNameException.class, () -> PortName.parse("netmap:eth0@vnet=11"));
        assertTrue(e.getMessage().contains("0, 10 or 12"), e.getMessage());
        assertThrows(PortNameException.class, () -> PortName.parse("netmap:eth0@vnet=12@vnet=12"));
    }

    @Test
    void hostStackRingsRefuseAHeader() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Netmap.open("netmap:jnvnet0^@vnet=12"));
        assertTrue(e.getMessage().contains("vnet=12"), e.getMessage());
    }

    @Test
    void bridgeCarriesHeadersOnlyBetweenTwoNicPorts() {
        assertArrayEquals(new String[] {"netmap:a@vnet=12", "netmap:b-0@vnet=12"},
                VnetHeader.endToEnd("netmap:a", "netmap:b-0"));
        assertArrayEquals(new String[] {"netmap:a@backend=xdp@vnet=12", "netmap:b@vnet=12"},
                VnetHeader.endToEnd("netmap:a@backend=xdp", "netmap:b"));
        assertArrayEquals(new String[] {"netmap:a", "vale0:b"}, VnetHeader.endToEnd("netmap:a", "vale0:b"));
        assertArrayEquals(new String[] {"netmap:a", "netmap:a^"}, VnetHeader.endToEnd("netmap:a", "netmap:a^"));
        assertArrayEquals(new String[] {"netmap:a@vnet=0", "netmap:b"}, VnetHeader.endToEnd("netmap:a@vnet=0", "netmap:b"));
    }

    @Test
    void headerFieldsRoundTripLittleEndian() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(16);
            m.fill((byte) 0x55);
            VnetHeader.set(m, 2, VnetHeader.LEN_MRG, VnetHeader.F_NEEDS_CSUM, VnetHeader.GSO_TCPV4, 66, 1448, 34, 16);
            assertEquals(VnetHeader.F_NEEDS_CSUM, VnetHeader.flags(m, 2));
            assertEquals(VnetHeader.GSO_TCPV4, VnetHeader.gsoType(m, 2));
            assertEquals(66, VnetHeader.hdrLen(m, 2));
            assertEquals(1448, VnetHeader.gsoSize(m, 2));
            assertEquals(34, VnetHeader.csumStart(m, 2));
            assertEquals(16, VnetHeader.csumOffset(m, 2));
            assertEquals((byte) 0xa8, m.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 6)); // 1448 = 0x05a8, low byte first
            assertEquals(0, m.get(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, 12));
            assertEquals((byte) 0x55, m.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 14));
            assertTrue(VnetHeader.pending(m, 2));
            VnetHeader.clear(m, 2, VnetHeader.LEN);
            assertFalse(VnetHeader.pending(m, 2));
        }
    }
}
