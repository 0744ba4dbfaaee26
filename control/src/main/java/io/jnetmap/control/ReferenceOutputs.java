package io.jnetmap.control;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.nic.NicPort;
import io.jnetmap.core.nic.NicStats;
import io.jnetmap.pipe.PipePort;
import io.jnetmap.vale.AttachedPort;
import io.jnetmap.vale.SwitchPort;
import io.jnetmap.vale.ValeSwitch;
import io.jnetmap.vale.ctl.SwitchFileLayout;
import io.jnetmap.vale.lookup.FlowCache;
import io.jnetmap.vale.lookup.L3Router;
import io.jnetmap.vale.lookup.LearningBridge;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * The daemon's periodic outputs as they were built before they were written straight into bytes:
 * {@code /metrics} through a {@code StringBuilder} and {@code String}s per sample, the page's event
 * through a tree of {@code JsonObject}s. Kept as the reference the new writers ({@link Metrics},
 * {@link Events}) must equal byte for byte (the tests) and as the old path the ctl benchmark measures
 * beside the new one ({@link OutputPaths}); never served. One difference is intended: NIC ports
 * attached to a switch but not open in this process came here in identity-hash order; {@link Metrics}
 * lists them in the switches' order (with one such port, or none, the pages are equal).
 */
final class ReferenceOutputs {
    private ReferenceOutputs() {
    }

    static String metrics(List<ValeSwitch> sws, boolean openMetrics) {
        Writer w = new Writer(openMetrics);
        List<Object[]> ports = new ArrayList<>(); // {switch, port}
        for (ValeSwitch sw : sws) {
            for (SwitchPort p : sw.portList()) {
                ports.add(new Object[] {sw, p});
            }
        }
        portCounter(w, ports, "jnetmap_port_receive_packets", "Packets the switch delivered to the port.",
                p -> p.rxCounter(SwitchFileLayout.RX_PACKETS));
        portCounter(w, ports, "jnetmap_port_receive_bytes", "Bytes the switch delivered to the port.",
                p -> p.rxCounter(SwitchFileLayout.RX_BYTES));
        portCounter(w, ports, "jnetmap_port_transmit_packets", "Packets the port sent into the switch.",
                p -> p.txCounter(SwitchFileLayout.TX_PACKETS));
        portCounter(w, ports, "jnetmap_port_transmit_bytes", "Bytes the port sent into the switch.",
                p -> p.txCounter(SwitchFileLayout.TX_BYTES));
        portCounter(w, ports, "jnetmap_port_forwarded_packets", "Packet copies from the port delivered to destination rings.",
                p -> p.txCounter(SwitchFileLayout.TX_DELIVERED));
        w.family("jnetmap_port_drops", "counter", "Packets from the port dropped, by cause.");
        for (Object[] sp : ports) {
            SwitchPort p = (SwitchPort) sp[1];
            for (int i = 0; i < Metrics.DROPS.length; i++) {
                w.sample("jnetmap_port_drops", p.txCounter(Metrics.DROPS[i]), "switch", sw(sp), "port", p.name(), "cause", Metrics.DROP_CAUSES[i]);
            }
        }
        w.family("jnetmap_port_receive_drops", "counter", "Packets for the port dropped at its receive side, by cause.");
        for (Object[] sp : ports) {
            SwitchPort p = (SwitchPort) sp[1];
            w.sample("jnetmap_port_receive_drops", p.rxCounter(SwitchFileLayout.RX_DROP_FULL), "switch", sw(sp), "port", p.name(),
                    "cause", "full");
            w.sample("jnetmap_port_receive_drops", p.rxCounter(SwitchFileLayout.RX_BAD_SLOT), "switch", sw(sp), "port", p.name(),
                    "cause", "bad_slot");
        }
        portCounter(w, ports, "jnetmap_port_backpressure_stalls", "Times a back-pressured sender of the port found its destination full.",
                p -> p.txCounter(SwitchFileLayout.BP_STALLS));
        portGauge(w, ports, "jnetmap_port_backpressure", "1 if the port's packets wait for room instead of being dropped.",
                p -> p.backPressure() ? 1 : 0);
        portGauge(w, ports, "jnetmap_port_receive_ring_used_slots",
                "Slots of the port's receive rings holding packets the switch delivered and the port has not taken yet.",
                ReferenceOutputs::occupancy);
        portGauge(w, ports, "jnetmap_port_receive_ring_size_slots", "Packets the port's receive rings can hold.",
                SwitchPort::ringCapacity);

        w.family("jnetmap_switch_ports", "gauge", "Ports on the switch.");
        for (ValeSwitch sw : sws) {
            w.sample("jnetmap_switch_ports", sw.portList().size(), "switch", sw.name());
        }
        w.family("jnetmap_switch_learning_table_entries", "gauge", "Addresses in the switch's learning table.");
        for (ValeSwitch sw : sws) {
            LearningBridge b = Hosted.bridge(sw);
            if (b != null) {
                w.sample("jnetmap_switch_learning_table_entries", b.size(), "switch", sw.name());
            }
        }
        w.family("jnetmap_switch_flow_cache_hits", "counter", "Lookups the switch's flow cache answered itself.");
        for (ValeSwitch sw : sws) {
            if (sw.lookup() instanceof FlowCache fc) {
                w.sample("jnetmap_switch_flow_cache_hits", fc.hits(), "switch", sw.name());
            }
        }
        w.family("jnetmap_switch_flow_cache_misses", "counter", "Lookups the switch's flow cache passed to its module.");
        for (ValeSwitch sw : sws) {
            if (sw.lookup() instanceof FlowCache fc) {
                w.sample("jnetmap_switch_flow_cache_misses", fc.misses(), "switch", sw.name());
            }
        }
        w.family("jnetmap_switch_routes", "gauge", "L3 routes in the switch's router, whoever set them.");
        for (ValeSwitch sw : sws) {
            L3Router r = Hosted.router(sw);
            if (r != null) {
                w.sample("jnetmap_switch_routes", r.routes(), "switch", sw.name());
            }
        }
        List<Port> open = Netmap.openPorts();
        nics(w, sws, open);
        pipes(w, open);
        return w.finish();
    }

    private static String sw(Object[] sp) {
        return ((ValeSwitch) sp[0]).name();
    }

    private static long occupancy(SwitchPort p) {
        try {
            return p.ringOccupancy();
        } catch (IllegalStateException leftMeanwhile) {
            return 0; // its rings' memory went with it
        }
    }

    private static void portCounter(Writer w, List<Object[]> ports, String name, String help, ToLongFunction<SwitchPort> v) {
        portFamily(w, ports, name, "counter", help, v);
    }

    private static void portGauge(Writer w, List<Object[]> ports, String name, String help, ToLongFunction<SwitchPort> v) {
        portFamily(w, ports, name, "gauge", help, v);
    }

    private static void portFamily(Writer w, List<Object[]> ports, String name, String type, String help, ToLongFunction<SwitchPort> v) {
        w.family(name, type, help);
        for (Object[] sp : ports) {
            SwitchPort p = (SwitchPort) sp[1];
            w.sample(name, v.applyAsLong(p), "switch", sw(sp), "port", p.name());
        }
    }

    /**
     * The process's NIC ports (opened by name, or attached to a served switch), label {@code nic} = the
     * port's name: their own counters and the kernel's drop counters (AF_XDP's XDP_STATISTICS,
     * AF_PACKET's PACKET_STATISTICS), as {@link NicPort#stats()} sums them over the port's queues.
     */
    private static void nics(Writer w, List<ValeSwitch> sws, List<Port> open) {
        Map<NicPort, String[]> nics = new IdentityHashMap<>(); // port -> {switch, switch port} or {}
        Map<NicPort, String[]> ordered = new LinkedHashMap<>();
        for (ValeSwitch sw : sws) {
            for (SwitchPort p : sw.portList()) {
                if (p instanceof AttachedPort ap && ap.port() instanceof NicPort nic) {
                    nics.put(nic, new String[] {sw.name(), p.name()});
                }
            }
        }
        for (Port p : open) {
            if (p instanceof NicPort nic) {
                ordered.put(nic, nics.getOrDefault(nic, new String[0]));
            }
        }
        nics.forEach(ordered::putIfAbsent);
        List<String[]> labels = new ArrayList<>();
        List<NicStats> stats = new ArrayList<>();
        for (Map.Entry<NicPort, String[]> e : ordered.entrySet()) {
            NicPort nic = e.getKey();
            if (nic.isClosed()) {
                continue;
            }
            try {
                stats.add(nic.stats());
            } catch (RuntimeException closedMeanwhile) {
                continue; // closed while we looked: not listed this time
            }
            String[] at = e.getValue();
            labels.add(at.length == 0 ? new String[] {nic.name(), nic.backend()} : new String[] {nic.name(), nic.backend(), at[0], at[1]});
        }
        w.family("jnetmap_nic_info", "gauge", "A NIC or host-stack port of this process: its backend and, if attached, its switch port.");
        for (String[] l : labels) {
            if (l.length == 2) {
                w.sample("jnetmap_nic_info", 1, "nic", l[0], "backend", l[1]);
            } else {
                w.sample("jnetmap_nic_info", 1, "nic", l[0], "backend", l[1], "switch", l[2], "port", l[3]);
            }
        }
        String[][] fam = {{"jnetmap_nic_receive_packets", "Packets the NIC port delivered into its RX rings."},
            {"jnetmap_nic_transmit_packets", "Packets the NIC port handed to the kernel."},
            {"jnetmap_nic_receive_drops", "Packets the kernel dropped before they reached an RX ring (its socket statistics)."},
            {"jnetmap_nic_transmit_drops", "Packets the kernel refused to send."},
            {"jnetmap_nic_bad_slots", "Invalid slots or descriptors the NIC port skipped."},
            {"jnetmap_nic_checksums_completed", "Partial L4 checksums the NIC port completed in software."},
            {"jnetmap_nic_segmented_frames", "GSO super-frames the NIC port cut into MTU frames in software."}};
        for (int f = 0; f < fam.length; f++) {
            w.family(fam[f][0], "counter", fam[f][1]);
            for (int i = 0; i < stats.size(); i++) {
                NicStats st = stats.get(i);
                w.sample(fam[f][0], Metrics.nicValue(st, f), "nic", labels.get(i)[0]);
            }
        }
    }

    /** The process's pipe ends (label {@code pipe} = the end's name): ring occupancy, the peer's state. */
    private static void pipes(Writer w, List<Port> open) {
        List<PipePort> pipes = new ArrayList<>();
        List<long[]> values = new ArrayList<>(); // tx used, rx used, tx size, rx size, peer open, deaths, faults, wakeups
        for (Port p : open) {
            if (p instanceof PipePort pp && !pp.isClosed()) {
                try {
                    long[] v = new long[8];
                    Metrics.readPipe(pp, v);
                    values.add(v);
                    pipes.add(pp);
                } catch (IllegalStateException closedMeanwhile) {
                    // its memory went with it: not listed this time
                }
            }
        }
        String[][] fam = {{"jnetmap_pipe_transmit_ring_used_slots", "gauge", "Slots of the pipe end's TX rings sent and not yet released by the other end."},
            {"jnetmap_pipe_receive_ring_used_slots", "gauge", "Slots of the pipe end's RX rings received and not yet released by its user."},
            {"jnetmap_pipe_transmit_ring_size_slots", "gauge", "Packets the pipe end's TX rings can hold."},
            {"jnetmap_pipe_receive_ring_size_slots", "gauge", "Packets the pipe end's RX rings can hold."},
            {"jnetmap_pipe_peer_open", "gauge", "1 while the other end of the pipe is open."},
            {"jnetmap_pipe_peer_deaths", "counter", "Times the process holding the other end died while this end was open."},
            {"jnetmap_pipe_peer_faults", "counter", "Faults of the other end found by this end (the first cuts it off)."},
            {"jnetmap_pipe_wakeups", "counter", "Wake-up system calls this end made for the other end."}};
        for (int f = 0; f < fam.length; f++) {
            w.family(fam[f][0], fam[f][1], fam[f][2]);
            for (int i = 0; i < pipes.size(); i++) {
                w.sample(fam[f][0], values.get(i)[f], "pipe", pipes.get(i).name());
            }
        }
    }

    /** Writes families in either format: the TYPE line names the family, samples of counters end in _total. */
    static final class Writer {
        private final StringBuilder b = new StringBuilder(16384);
        private final boolean om;
        private boolean counter;

        Writer(boolean om) {
            this.om = om;
        }

        void family(String name, String type, String help) {
            counter = type.equals("counter");
            String fam = om || !counter ? name : name + "_total";
            b.append("# HELP ").append(fam).append(' ').append(help).append('\n');
            b.append("# TYPE ").append(fam).append(' ').append(type).append('\n');
        }

        /** A sample of the family last begun; {@code labels}: name, value, name, value ... */
        void sample(String name, long v, String... labels) {
            b.append(name);
            if (counter) {
                b.append("_total");
            }
            b.append('{');
            for (int i = 0; i < labels.length; i += 2) {
                if (i > 0) {
                    b.append(',');
                }
                b.append(labels[i]).append("=\"");
                escape(labels[i + 1]);
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

    // ----------------------------------------------------------------------------------------------
    // the live page's event, as ControlServer sent it: "data: " + snapshot(...).encode() + "\n\n"

    /** The event's text, as the server wrote it to the stream. */
    static String event(List<ValeSwitch> sws, long timeMillis, long nowNanos) {
        return "data: " + snapshot(sws, timeMillis, nowNanos).encode() + "\n\n";
    }

    private static int ringUsed(SwitchPort p) {
        try {
            return p.ringOccupancy();
        } catch (IllegalStateException leftMeanwhile) {
            return 0;
        }
    }

    /** What the page shows: every switch, its ports and counters, its learning table (first 64 entries). */
    static JsonObject snapshot(List<ValeSwitch> all, long timeMillis, long nowNanos) {
        JsonArray sws = new JsonArray();
        for (ValeSwitch sw : all) {
            JsonArray ports = new JsonArray();
            for (SwitchPort p : sw.portList()) {
                JsonObject drops = new JsonObject();
                for (int i = 0; i < Metrics.DROP_CAUSES.length; i++) {
                    drops.put(Metrics.DROP_CAUSES[i], p.txCounter(SwitchFileLayout.DROP_FULL + i));
                }
                drops.put("rx_full", p.rxCounter(SwitchFileLayout.RX_DROP_FULL));
                ports.add(new JsonObject().put("name", p.name()).put("backend", p.backend())
                        .put("kind", p instanceof io.jnetmap.vale.AttachedPort ? "attached" : "vale")
                        .put("backPressure", p.backPressure())
                        .put("rxPackets", p.rxCounter(SwitchFileLayout.RX_PACKETS))
                        .put("txPackets", p.txCounter(SwitchFileLayout.TX_PACKETS))
                        .put("rxBytes", p.rxCounter(SwitchFileLayout.RX_BYTES))
                        .put("txBytes", p.txCounter(SwitchFileLayout.TX_BYTES))
                        .put("drops", drops).put("ringUsed", ringUsed(p)).put("ringSize", p.ringCapacity()));
            }
            JsonObject j = new JsonObject().put("name", sw.name()).put("lookup", RestApi.lookupJson(sw)).put("ports", ports);
            var b = Hosted.bridge(sw);
            if (b != null) {
                j.put("macTable", RestApi.macTableJson(sw, b, 64, nowNanos));
            }
            sws.add(j);
        }
        return new JsonObject().put("time", timeMillis).put("switches", sws);
    }
}
