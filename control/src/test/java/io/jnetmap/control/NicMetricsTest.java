package io.jnetmap.control;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.nic.NetLab;
import io.jnetmap.core.nic.NicPort;
import io.jnetmap.core.nic.NicStats;
import io.jnetmap.vale.AttachOptions;
import io.jnetmap.vale.ValeSwitch;
import io.jnetmap.vale.ValeSwitches;
import io.jnetmap.vale.lookup.LearningBridge;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A NIC port attached to a switch shows its own counters in /metrics, equal to {@link NicPort#stats()} at rest. */
class NicMetricsTest {
    @Test
    void nicCountersInMetrics() throws Exception {
        String name = RestApiTest.unique("valen");
        ValeSwitch sw = ValeSwitches.create(name, new LearningBridge());
        try (NetLab lab = new NetLab(); ControlServer server = ControlServer.start("127.0.0.1", 0, null, List.of(sw))) {
            NetLab.Veth v = lab.vethPair();
            Port nic = NetLab.open(v.nsA(), "netmap:" + v.a());
            Port other = NetLab.open(v.nsB(), "netmap:" + v.b());
            sw.attach(nic, AttachOptions.defaults().withName("eth").withCloseOnDetach(true));
            try (Port a = Netmap.open(name + ":a")) {
                RestApiTest.send(a, 0xffffffffffffL, 0x02000000000aL, 10); // broadcast: out through the NIC
                NicStats st = null;
                for (int i = 0; i < 100; i++) {
                    st = ((NicPort) nic).stats();
                    if (st.txPackets() >= 10) {
                        break;
                    }
                    Thread.sleep(20);
                }
                assertEquals(10, st.txPackets(), "the NIC sent the 10 frames");
                Thread.sleep(100);
                st = ((NicPort) nic).stats();
                String m = new Http(server.url()).get("/metrics").body();
                String l = "{nic=\"" + nic.name() + "\"} ";
                assertTrue(m.contains("jnetmap_nic_info{nic=\"" + nic.name() + "\",backend=\"" + nic.backend() + "\",switch=\"" + name
                        + "\",port=\"eth\"} 1\n"), m);
                // the other end, open in this process but on no switch, is listed as well
                NicStats so = ((NicPort) other).stats();
                String ol = "{nic=\"" + other.name() + "\"} ";
                assertTrue(m.contains("jnetmap_nic_info{nic=\"" + other.name() + "\",backend=\"" + other.backend() + "\"} 1\n"), m);
                assertTrue(m.contains("jnetmap_nic_receive_packets_total" + ol + so.rxPackets() + "\n"), m);
                assertTrue(m.contains("jnetmap_nic_receive_drops_total" + ol + so.rxDrops() + "\n"), m);
                assertTrue(m.contains("jnetmap_nic_transmit_packets_total" + l + st.txPackets() + "\n"), m);
                assertTrue(m.contains("jnetmap_nic_receive_drops_total" + l + st.rxDrops() + "\n"), m);
                assertTrue(m.contains("jnetmap_nic_receive_packets_total" + l + st.rxPackets() + "\n"), m);
            } finally {
                sw.detach("eth");
                other.close();
            }
        } finally {
            sw.close();
        }
    }
}
