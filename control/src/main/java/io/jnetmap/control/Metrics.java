package io.jnetmap.control;

import io.jnetmap.core.nic.NicPort;
import io.jnetmap.core.nic.NicStats;
import io.jnetmap.vale.AttachedPort;
import io.jnetmap.vale.LookupModule;
import io.jnetmap.vale.SwitchPort;
import io.jnetmap.vale.ValeSwitch;
import io.jnetmap.vale.ctl.SwitchFileLayout;
import io.jnetmap.vale.lookup.FlowCache;
import io.jnetmap.vale.lookup.LearningBridge;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code /metrics}: the switches' counters in Prometheus' text format (0.0.4), or OpenMetrics 1.0 when
 * the scraper asks for it. The values are the words of the switches' counters files, the ones vale-ctl
 * reads ({@link SwitchPort#txCounter}, {@link SwitchPort#rxCounter}), so at rest both show the same.
 */
final class Metrics {
    static final String TEXT = "text/plain; version=0.0.4; charset=utf-8";
    static final String OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    /** TX (sender-side) drop counters and their {@code cause} label. */
    private static final int[] DROPS = {SwitchFileLayout.DROP_FULL, SwitchFileLayout.DROP_LOOKUP, SwitchFileLayout.DROP_HAIRPIN,
        SwitchFileLayout.DROP_BAD_SLOT, SwitchFileLayout.DROP_TOO_LONG, SwitchFileLayout.DROP_TTL,
        SwitchFileLayout.DROP_NO_ROUTE, SwitchFileLayout.DROP_NOT_IP};
    static final String[] DROP_CAUSES = {"full", "lookup", "hairpin", "bad_slot", "too_long", "ttl", "no_route", "not_ip"};

    private Metrics() {
    }

    /** Whether an {@code Accept} header asks for OpenMetrics. */
    static boolean wantsOpenMetrics(String accept) {
        return accept != null && accept.contains("application/openmetrics-text");
    }

    static String render(List<Hosted.Entry> switches, boolean openMetrics) {
        Writer w = new Writer(openMetrics);
        List<ValeSwitch> sws = switches.stream().map(Hosted.Entry::sw).toList();
        counter(w, sws, "jnetmap_port_receive_packets", "Packets the switch delivered to the port.", p -> p.rxCounter(SwitchFileLayout.RX_PACKETS));
        counter(w, sws, "jnetmap_port_receive_bytes", "Bytes the switch delivered to the port.", p -> p.rxCounter(SwitchFileLayout.RX_BYTES));
        counter(w, sws, "jnetmap_port_transmit_packets", "Packets the port sent into the switch.", p -> p.txCounter(SwitchFileLayout.TX_PACKETS));
        counter(w, sws, "jnetmap_port_transmit_bytes", "Bytes the port sent into the switch.", p -> p.txCounter(SwitchFileLayout.TX_BYTES));
        counter(w, sws, "jnetmap_port_forwarded_packets", "Packet copies from the port delivered to destination rings.",
                p -> p.txCounter(SwitchFileLayout.TX_DELIVERED));
        w.family("jnetmap_port_drops", "counter", "Packets from the port dropped, by cause.");
        for (ValeSwitch sw : sws) {
            for (SwitchPort p : sw.portList()) {
                for (int i = 0; i < DROPS.length; i++) {
                    w.sample("jnetmap_port_drops", true, sw.name(), p.name(), "cause", DROP_CAUSES[i], p.txCounter(DROPS[i]));
                }
            }
        }
        w.family("jnetmap_port_receive_drops", "counter", "Packets for the port dropped at its receive side, by cause.");
        for (ValeSwitch sw : sws) {
            for (SwitchPort p : sw.portList()) {
                w.sample("jnetmap_port_receive_drops", true, sw.name(), p.name(), "cause", "full", p.rxCounter(SwitchFileLayout.RX_DROP_FULL));
                w.sample("jnetmap_port_receive_drops", true, sw.name(), p.name(), "cause", "bad_slot", p.rxCounter(SwitchFileLayout.RX_BAD_SLOT));
            }
        }
        counter(w, sws, "jnetmap_port_backpressure_stalls", "Times a back-pressured sender of the port found its destination full.",
                p -> p.txCounter(SwitchFileLayout.BP_STALLS));
        w.family("jnetmap_port_backpressure", "gauge", "1 if the port's packets wait for room instead of being dropped.");
        for (ValeSwitch sw : sws) {
            for (SwitchPort p : sw.portList()) {
                w.sample("jnetmap_port_backpressure", false, sw.name(), p.name(), null, null, p.backPressure() ? 1 : 0);
            }
        }
        w.family("jnetmap_switch_ports", "gauge", "Ports on the switch.");
        for (ValeSwitch sw : sws) {
            w.sample("jnetmap_switch_ports", false, sw.name(), null, null, null, sw.portList().size());
        }
        w.family("jnetmap_switch_learning_table_entries", "gauge", "Addresses in the switch's learning table.");
        for (ValeSwitch sw : sws) {
            LearningBridge b = Hosted.bridge(sw);
            if (b != null) {
                w.sample("jnetmap_switch_learning_table_entries", false, sw.name(), null, null, null, b.size());
            }
        }
        w.family("jnetmap_switch_flow_cache_misses", "counter", "Lookups the switch's flow cache passed to its module.");
        for (ValeSwitch sw : sws) {
            LookupModule m = sw.lookup();
            if (m instanceof FlowCache fc) {
                w.sample("jnetmap_switch_flow_cache_misses", true, sw.name(), null, null, null, fc.misses());
            }
        }
        w.family("jnetmap_switch_routes", "gauge", "L3 routes set through the control plane.");
        for (Hosted.Entry e : switches) {
            if (Hosted.router(e.sw()) != null) {
                w.sample("jnetmap_switch_routes", false, e.sw().name(), null, null, null, e.routes().size());
            }
        }
        nics(w, sws);
        return w.finish();
    }

    /** NIC ports attached to the switches: their own counters, the kernel's drops included ({@link NicStats}). */
    private static void nics(Writer w, List<ValeSwitch> sws) {
        List<String[]> labels = new ArrayList<>();
        List<NicStats> stats = new ArrayList<>();
        for (ValeSwitch sw : sws) {
            for (SwitchPort p : sw.portList()) {
                if (p instanceof AttachedPort ap && ap.port() instanceof NicPort nic) {
                    try {
                        stats.add(nic.stats());
                        labels.add(new String[] {sw.name(), p.name()});
                    } catch (RuntimeException closedMeanwhile) {
                        // detached while we looked: not listed this time
                    }
                }
            }
        }
        String[][] fam = {{"jnetmap_nic_receive_packets", "Packets the NIC port delivered into its RX rings."},
            {"jnetmap_nic_transmit_packets", "Packets the NIC port handed to the kernel."},
            {"jnetmap_nic_receive_drops", "Packets the kernel dropped before they reached an RX ring."},
            {"jnetmap_nic_transmit_drops", "Packets the kernel refused to send."},
            {"jnetmap_nic_bad_slots", "Invalid slots or descriptors the NIC port skipped."}};
        for (int f = 0; f < fam.length; f++) {
            w.family(fam[f][0], "counter", fam[f][1]);
            for (int i = 0; i < stats.size(); i++) {
                NicStats st = stats.get(i);
                long v = switch (f) {
                    case 0 -> st.rxPackets();
                    case 1 -> st.txPackets();
                    case 2 -> st.rxDrops();
                    case 3 -> st.txDrops();
                    default -> st.badSlots();
                };
                w.sample(fam[f][0], true, labels.get(i)[0], labels.get(i)[1], null, null, v);
            }
        }
    }

    private interface PortValue {
        long of(SwitchPort p);
    }

    private static void counter(Writer w, List<ValeSwitch> sws, String name, String help, PortValue v) {
        w.family(name, "counter", help);
        for (ValeSwitch sw : sws) {
            for (SwitchPort p : sw.portList()) {
                w.sample(name, true, sw.name(), p.name(), null, null, v.of(p));
            }
        }
    }

    /** Writes families in either format: the TYPE line names the family, samples of counters end in _total. */
    private static final class Writer {
        private final StringBuilder b = new StringBuilder(16384);
        private final boolean om;

        Writer(boolean om) {
            this.om = om;
        }

        void family(String name, String type, String help) {
            String fam = om || !type.equals("counter") ? name : name + "_total";
            b.append("# HELP ").append(fam).append(' ').append(help).append('\n');
            b.append("# TYPE ").append(fam).append(' ').append(type).append('\n');
        }

        void sample(String name, boolean counter, String sw, String port, String label, String value, long v) {
            b.append(name);
            if (counter) {
                b.append("_total");
            }
            b.append("{switch=\"");
            escape(sw);
            b.append('"');
            if (port != null) {
                b.append(",port=\"");
                escape(port);
                b.append('"');
            }
            if (label != null) {
                b.append(',').append(label).append("=\"");
                escape(value);
                b.append('"');
            }
            b.append("} ").append(v).append('\n');
        }

        private void escape(String s) {
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '\\' -> b.append("\\\\");
                    case '"' -> b.append("\\\"");
                    case '\n' -> b.append("\\n");
                    default -> b.append(c);
                }
            }
        }

        String finish() {
            if (om) {
                b.append("# EOF\n");
            }
            return b.toString();
        }
    }
}
