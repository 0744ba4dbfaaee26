package io.jnetmap.sys;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Route netlink in a namespace of its own: an address added with {@code RTM_NEWADDR} shows in the
 * {@code RTM_GETADDR} dump with its prefix length, adding it again is EEXIST, deleting it twice is
 * EADDRNOTAVAIL, and a route through a gateway is found in the route dump. Needs root.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RtNetlinkTest {
    private static final String NS = "jnrtnl" + ProcessHandle.current().pid() % 100000;
    private static final int EADDRNOTAVAIL = 99;

    @BeforeAll
    static void namespace() throws Exception {
        run("ip", "netns", "add", NS);
    }

    @AfterAll
    static void remove() throws Exception {
        run("ip", "netns", "del", NS);
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", cmd));
    }

    private static byte[] addr(int index, byte[] ip, int prefix) {
        byte[] h = ByteBuffer.allocate(RtNetlink.IFADDRMSG_SIZE).order(ByteOrder.nativeOrder())
                .put(0, (byte) Linux.AF_INET).put(1, (byte) prefix).putInt(4, index).array();
        return new RtNetlink.Body(h).attr(RtNetlink.IFA_LOCAL, ip).attr(RtNetlink.IFA_ADDRESS, ip).bytes();
    }

    @Test
    void addressesAndRoutesOnLoopback() {
        byte[] ip = {(byte) 192, 0, 2, 7};
        try (NetNamespace ignored = NetNamespace.enter(NS); RtNetlink nl = RtNetlink.open()) {
            int lo = NetDevice.index("lo");
            RtNetlink.Body up = new RtNetlink.Body(ByteBuffer.allocate(RtNetlink.IFINFOMSG_SIZE)
                    .order(ByteOrder.nativeOrder()).putInt(4, lo).putInt(8, 1).putInt(12, 1).array());
            nl.request(RtNetlink.RTM_SETLINK, 0, up.bytes()); // IFF_UP in flags and change
            assertEquals(0, nl.request(RtNetlink.RTM_NEWADDR, RtNetlink.NLM_F_CREATE | RtNetlink.NLM_F_EXCL,
                    addr(lo, ip, 24)));
            assertEquals(-Errno.EEXIST, nl.request(RtNetlink.RTM_NEWADDR,
                    RtNetlink.NLM_F_CREATE | RtNetlink.NLM_F_EXCL, addr(lo, ip, 24), Errno.EEXIST));
            SyscallException e = assertThrows(SyscallException.class, () -> nl.request(RtNetlink.RTM_NEWADDR,
                    RtNetlink.NLM_F_CREATE | RtNetlink.NLM_F_EXCL, addr(lo, ip, 24)));
            assertEquals(Errno.EEXIST, e.errno());

            byte[] h = new byte[RtNetlink.IFADDRMSG_SIZE];
            h[0] = (byte) Linux.AF_INET;
            List<RtNetlink.Message> dump = nl.dump(RtNetlink.RTM_GETADDR, h);
            boolean found = false;
            for (RtNetlink.Message m : dump) {
                RtNetlink.Attr local = RtNetlink.attr(RtNetlink.attrs(m.body(), RtNetlink.IFADDRMSG_SIZE), RtNetlink.IFA_LOCAL);
                if (local != null && java.util.Arrays.equals(ip, local.value())) {
                    found = true;
                    assertEquals(24, m.body()[1], "prefix length");
                }
            }
            assertTrue(found, "the dump lists the new address");

            byte[] rt = new byte[RtNetlink.RTMSG_SIZE];
            rt[0] = (byte) Linux.AF_INET;
            rt[1] = 16;
            rt[4] = (byte) 254; // main
            rt[5] = 4; // static
            rt[7] = 1; // unicast
            byte[] gw = {(byte) 192, 0, 2, 1};
            nl.request(RtNetlink.RTM_NEWROUTE, RtNetlink.NLM_F_CREATE | RtNetlink.NLM_F_EXCL, new RtNetlink.Body(rt)
                    .attr(RtNetlink.RTA_DST, new byte[] {(byte) 198, 51, 0, 0}).attr(RtNetlink.RTA_GATEWAY, gw)
                    .attrInt(RtNetlink.RTA_OIF, lo).bytes());
            byte[] q = new byte[RtNetlink.RTMSG_SIZE];
            q[0] = (byte) Linux.AF_INET;
            boolean routed = false;
            for (RtNetlink.Message m : nl.dump(RtNetlink.RTM_GETROUTE, q)) {
                RtNetlink.Attr g = RtNetlink.attr(RtNetlink.attrs(m.body(), RtNetlink.RTMSG_SIZE), RtNetlink.RTA_GATEWAY);
                if (g != null) {
                    assertArrayEquals(gw, g.value());
                    assertEquals(16, m.body()[1]);
                    routed = true;
                }
            }
            assertTrue(routed, "the route dump lists the route through the gateway");

            assertEquals(0, nl.request(RtNetlink.RTM_DELADDR, 0, addr(lo, ip, 24)));
            assertEquals(-EADDRNOTAVAIL, nl.request(RtNetlink.RTM_DELADDR, 0, addr(lo, ip, 24), EADDRNOTAVAIL));
        }
    }
}
