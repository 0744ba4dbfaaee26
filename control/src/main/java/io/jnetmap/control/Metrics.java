package io.jnetmap.control;

import io.jnetmap.control.MetricsOut.Family;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.core.RingIndex;
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

import java.util.Arrays;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * {@code /metrics}: the switches' counters in Prometheus' text format (0.0.4), or OpenMetrics 1.0 when
 * the scraper asks for it. The values are the words of the switches' counters files, the ones vale-ctl
 * reads ({@link SwitchPort#txCounter}, {@link SwitchPort#rxCounter}), so at rest both show the same;
 * beside them the process's NIC ports (their counters and the kernel's, {@link NicPort#stats()}) and
 * pipe ends ({@link PipePort}). Everything is read without a lock; ring occupancies are snapshots.
 *
 * <p>The page is written straight into bytes ({@link MetricsOut}) with the families' lines encoded
 * once; the ports are listed once per scrape into arrays this object keeps, so a scrape allocates
 * per switch, NIC and pipe end, not per port or sample. The text equals, byte for byte, what the
 * {@code StringBuilder} writer before it gave ({@link ReferenceOutputs#metrics}). One per event loop.
 */
final class Metrics {
    static final String TEXT = "text/plain; version=0.0.4; charset=utf-8";
    static final String OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    /** TX (sender-side) drop counters and their {@code cause} label. */
    static final int[] DROPS = {SwitchFileLayout.DROP_FULL, SwitchFileLayout.DROP_LOOKUP, SwitchFileLayout.DROP_HAIRPIN,
        SwitchFileLayout.DROP_BAD_SLOT, SwitchFileLayout.DROP_TOO_LONG, SwitchFileLayout.DROP_TTL,
        SwitchFileLayout.DROP_NO_ROUTE, SwitchFileLayout.DROP_NOT_IP};
    static final String[] DROP_CAUSES = {"full", "lookup", "hairpin", "bad_slot", "too_long", "ttl", "no_route", "not_ip"};

    private static final byte[] SWITCH = MetricsOut.label("switch");
    private static final byte[] PORT = MetricsOut.label("port");
    private static final byte[] CAUSE = MetricsOut.label("cause");
    private static final byte[] NIC = MetricsOut.label("nic");
    private static final byte[] BACKEND = MetricsOut.label("backend");
    private static final byte[] PIPE = MetricsOut.label("pipe");

    private static final Family RX_PACKETS = counter("jnetmap_port_receive_packets", "Packets the switch delivered to the port.");
    private static final Family RX_BYTES = counter("jnetmap_port_receive_bytes", "Bytes the switch delivered to the port.");
    private static final Family TX_PACKETS = counter("jnetmap_port_transmit_packets", "Packets the port sent into the switch.");
    private static final Family TX_BYTES = counter("jnetmap_port_transmit_bytes", "Bytes the port sent into the switch.");
    private static final Family FORWARDED = counter("jnetmap_port_forwarded_packets",
            "Packet copies from the port delivered to destination rings.");
    private static final Family PORT_DROPS = counter("jnetmap_port_drops", "Packets from the port dropped, by cause.");
    private static final Family RX_DROPS = counter("jnetmap_port_receive_drops",
            "Packets for the port dropped at its receive side, by cause.");
    private static final Family STALLS = counter("jnetmap_port_backpressure_stalls",
            "Times a back-pressured sender of the port found its destination full.");
    private static final Family BACKPRESSURE = gauge("jnetmap_port_backpressure",
            "1 if the port's packets wait for room instead of being dropped.");
    private static final Family RING_USED = gauge("jnetmap_port_receive_ring_used_slots",
            "Slots of the port's receive rings holding packets the switch delivered and the port has not taken yet.");
    private static final Family RING_SIZE = gauge("jnetmap_port_receive_ring_size_slots", "Packets the port's receive rings can hold.");
    private static final Family SWITCH_PORTS = gauge("jnetmap_switch_ports", "Ports on the switch.");
    private static final Family LEARNED = gauge("jnetmap_switch_learning_table_entries", "Addresses in the switch's learning table.");
    private static final Family HITS = counter("jnetmap_switch_flow_cache_hits", "Lookups the switch's flow cache answered itself.");
    private static final Family MISSES = counter("jnetmap_switch_flow_cache_misses", "Lookups the switch's flow cache passed to its module.");
    private static final Family ROUTES = gauge("jnetmap_switch_routes", "L3 routes in the switch's router, whoever set them.");
    private static final Family NIC_INFO = gauge("jnetmap_nic_info",
            "A NIC or host-stack port of this process: its backend and, if attached, its switch port.");
    /** Per NIC port, in the order of {@link #nicValue}. */
    private static final Family[] NIC_FAMILIES = {
        counter("jnetmap_nic_receive_packets", "Packets the NIC port delivered into its RX rings."),
        counter("jnetmap_nic_transmit_packets", "Packets the NIC port handed to the kernel."),
        counter("jnetmap_nic_receive_drops", "Packets the kernel dropped before they reached an RX ring (its socket statistics)."),
        counter("jnetmap_nic_transmit_drops", "Packets the kernel refused to send."),
        counter("jnetmap_nic_bad_slots", "Invalid slots or descriptors the NIC port skipped."),
        counter("jnetmap_nic_checksums_completed", "Partial L4 checksums the NIC port completed in software."),
        counter("jnetmap_nic_segmented_frames", "GSO super-frames the NIC port cut into MTU frames in software.")};
    /** Per pipe end, in the order of {@link #pipeValues}' columns. */
    private static final Family[] PIPE_FAMILIES = {
        gauge("jnetmap_pipe_transmit_ring_used_slots", "Slots of the pipe end's TX rings sent and not yet released by the other end."),
        gauge("jnetmap_pipe_receive_ring_used_slots", "Slots of the pipe end's RX rings received and not yet released by its user."),
        gauge("jnetmap_pipe_transmit_ring_size_slots", "Packets the pipe end's TX rings can hold."),
        gauge("jnetmap_pipe_receive_ring_size_slots", "Packets the pipe end's RX rings can hold."),
        gauge("jnetmap_pipe_peer_open", "1 while the other end of the pipe is open."),
        counter("jnetmap_pipe_peer_deaths", "Times the process holding the other end died while this end was open."),
        counter("jnetmap_pipe_peer_faults", "Faults of the other end found by this end (the first cuts it off)."),
        counter("jnetmap_pipe_wakeups", "Wake-up system calls this end made for the other end.")};

    private final MetricsOut out = new MetricsOut(64 * 1024);
    /** This scrape's switch ports, listed once, and the name of each one's switch. */
    private SwitchPort[] ports = new SwitchPort[256];
    private String[] portSwitch = new String[256];
    private int portCount;
    /** Ports of each switch in this scrape's list. */
    private int[] switchPorts = new int[4];
    /** Each listed port's labels, {@code switch="S",port="P"}, encoded once per scrape: port k's are {@code [labelEnd[k-1], labelEnd[k])}. */
    private final MetricsOut portLabels = new MetricsOut(16 * 1024);
    private int[] labelEnd = new int[256];
    /** This scrape's NIC ports: the port, its switch and switch port if attached (else null), its counters. */
    private NicPort[] nics = new NicPort[4];
    private String[] nicSwitch = new String[4];
    private String[] nicSwitchPort = new String[4];
    private NicStats[] nicStats = new NicStats[4];
    private int nicCount;
    /** This scrape's pipe ends and their values (a row each, as {@link #PIPE_FAMILIES}). */
    private PipePort[] pipes = new PipePort[4];
    private long[][] pipeValues = new long[4][PIPE_FAMILIES.length];
    private int pipeCount;

    /** Whether an {@code Accept} header asks for OpenMetrics. */
    static boolean wantsOpenMetrics(String accept) {
        return accept != null && accept.contains("application/openmetrics-text");
    }

    /** The page for {@code sws} and the process's NIC ports and pipe ends, in the writer this object keeps. */
    MetricsOut write(List<ValeSwitch> sws, boolean openMetrics) {
        MetricsOut w = out.reset(openMetrics);
        try {
            listPorts(sws);
            portFamily(w, RX_PACKETS, p -> p.rxCounter(SwitchFileLayout.RX_PACKETS));
            portFamily(w, RX_BYTES, p -> p.rxCounter(SwitchFileLayout.RX_BYTES));
            portFamily(w, TX_PACKETS, p -> p.txCounter(SwitchFileLayout.TX_PACKETS));
            portFamily(w, TX_BYTES, p -> p.txCounter(SwitchFileLayout.TX_BYTES));
            portFamily(w, FORWARDED, p -> p.txCounter(SwitchFileLayout.TX_DELIVERED));
            w.family(PORT_DROPS);
            for (int k = 0; k < portCount; k++) {
                SwitchPort p = ports[k];
                for (int i = 0; i < DROPS.length; i++) {
                    beginPort(w, PORT_DROPS, k).label(CAUSE, DROP_CAUSES[i]).end(p.txCounter(DROPS[i]));
                }
            }
            w.family(RX_DROPS);
            for (int k = 0; k < portCount; k++) {
                SwitchPort p = ports[k];
                beginPort(w, RX_DROPS, k).label(CAUSE, "full").end(p.rxCounter(SwitchFileLayout.RX_DROP_FULL));
                beginPort(w, RX_DROPS, k).label(CAUSE, "bad_slot").end(p.rxCounter(SwitchFileLayout.RX_BAD_SLOT));
            }
            portFamily(w, STALLS, p -> p.txCounter(SwitchFileLayout.BP_STALLS));
            portFamily(w, BACKPRESSURE, p -> p.backPressure() ? 1 : 0);
            portFamily(w, RING_USED, Metrics::occupancy);
            portFamily(w, RING_SIZE, SwitchPort::ringCapacity);

            w.family(SWITCH_PORTS);
            for (int s = 0; s < sws.size(); s++) {
                w.begin(SWITCH_PORTS).label(SWITCH, sws.get(s).name()).end(switchPorts[s]);
            }
            w.family(LEARNED);
            for (int s = 0; s < sws.size(); s++) {
                ValeSwitch sw = sws.get(s);
                LearningBridge b = Hosted.bridge(sw);
                if (b != null) {
                    w.begin(LEARNED).label(SWITCH, sw.name()).end(b.size());
                }
            }
            w.family(HITS);
            for (int s = 0; s < sws.size(); s++) {
                ValeSwitch sw = sws.get(s);
                if (sw.lookup() instanceof FlowCache fc) {
                    w.begin(HITS).label(SWITCH, sw.name()).end(fc.hits());
                }
            }
            w.family(MISSES);
            for (int s = 0; s < sws.size(); s++) {
                ValeSwitch sw = sws.get(s);
                if (sw.lookup() instanceof FlowCache fc) {
                    w.begin(MISSES).label(SWITCH, sw.name()).end(fc.misses());
                }
            }
            w.family(ROUTES);
            for (int s = 0; s < sws.size(); s++) {
                ValeSwitch sw = sws.get(s);
                L3Router r = Hosted.router(sw);
                if (r != null) {
                    w.begin(ROUTES).label(SWITCH, sw.name()).end(r.routes());
                }
            }
            List<Port> open = Netmap.openPorts();
            nics(w, open);
            pipes(w, open);
            return w.finish();
        } finally {
            forget();
        }
    }

    /** Lists the switches' ports once for the whole scrape (a port added meanwhile shows in the next). */
    private void listPorts(List<ValeSwitch> sws) {
        portCount = 0;
        portLabels.reset(false);
        if (switchPorts.length < sws.size()) {
            switchPorts = new int[sws.size() * 2];
        }
        for (int s = 0; s < sws.size(); s++) {
            ValeSwitch sw = sws.get(s);
            String name = sw.name();
            List<SwitchPort> list = sw.portList();
            switchPorts[s] = list.size();
            for (int i = 0; i < list.size(); i++) {
                if (portCount == ports.length) {
                    ports = Arrays.copyOf(ports, portCount * 2);
                    portSwitch = Arrays.copyOf(portSwitch, portCount * 2);
                    labelEnd = Arrays.copyOf(labelEnd, portCount * 2);
                }
                SwitchPort p = list.get(i);
                portLabels.labelsOnly().label(SWITCH, name).label(PORT, p.name());
                labelEnd[portCount] = portLabels.length();
                ports[portCount] = p;
                portSwitch[portCount++] = name;
            }
        }
    }

    /** Drops the references to this scrape's ports, so that a removed port is not kept alive until the next. */
    private void forget() {
        Arrays.fill(ports, 0, portCount, null);
        Arrays.fill(portSwitch, 0, portCount, null);
        Arrays.fill(nics, 0, nicCount, null);
        Arrays.fill(nicSwitch, 0, nicCount, null);
        Arrays.fill(nicSwitchPort, 0, nicCount, null);
        Arrays.fill(nicStats, 0, nicCount, null);
        Arrays.fill(pipes, 0, pipeCount, null);
        portCount = 0;
        nicCount = 0;
        pipeCount = 0;
    }

    private void portFamily(MetricsOut w, Family f, ToLongFunction<SwitchPort> v) {
        w.family(f);
        for (int k = 0; k < portCount; k++) {
            beginPort(w, f, k).end(v.applyAsLong(ports[k]));
        }
    }

    /** Begins a sample of {@code f} for listed port {@code k}, with its switch and port labels. */
    private MetricsOut beginPort(MetricsOut w, Family f, int k) {
        return w.begin(f, portLabels, k == 0 ? 0 : labelEnd[k - 1], labelEnd[k]);
    }

    private static long occupancy(SwitchPort p) {
        try {
            return p.ringOccupancy();
        } catch (IllegalStateException leftMeanwhile) {
            return 0; // its rings' memory went with it
        }
    }

    /**
     * The process's NIC ports (opened by name, or attached to a served switch), label {@code nic} = the
     * port's name: their own counters and the kernel's drop counters (AF_XDP's XDP_STATISTICS,
     * AF_PACKET's PACKET_STATISTICS), as {@link NicPort#stats()} sums them over the port's queues. The
     * ports open in this process come first, in their order; then those only attached, in the
     * switches' order.
     */
    private void nics(MetricsOut w, List<Port> open) {
        nicCount = 0;
        for (int i = 0; i < open.size(); i++) {
            if (open.get(i) instanceof NicPort nic) {
                addNic(nic);
            }
        }
        for (int k = 0; k < portCount; k++) {
            if (ports[k] instanceof AttachedPort ap && ap.port() instanceof NicPort nic && !listed(nic, open) && !added(nic)) {
                addNic(nic);
            }
        }
        w.family(NIC_INFO);
        for (int i = 0; i < nicCount; i++) {
            NicPort nic = nics[i];
            w.begin(NIC_INFO).label(NIC, nic.name()).label(BACKEND, nic.backend());
            if (nicSwitch[i] != null) {
                w.label(SWITCH, nicSwitch[i]).label(PORT, nicSwitchPort[i]);
            }
            w.end(1);
        }
        for (int f = 0; f < NIC_FAMILIES.length; f++) {
            w.family(NIC_FAMILIES[f]);
            for (int i = 0; i < nicCount; i++) {
                w.begin(NIC_FAMILIES[f]).label(NIC, nics[i].name()).end(nicValue(nicStats[i], f));
            }
        }
    }

    private static boolean listed(NicPort nic, List<Port> open) {
        for (int i = 0; i < open.size(); i++) {
            if (open.get(i) == nic) {
                return true;
            }
        }
        return false;
    }

    private boolean added(NicPort nic) {
        for (int i = 0; i < nicCount; i++) {
            if (nics[i] == nic) {
                return true;
            }
        }
        return false;
    }

    private void addNic(NicPort nic) {
        if (nic.isClosed()) {
            return;
        }
        NicStats st;
        try {
            st = nic.stats();
        } catch (RuntimeException closedMeanwhile) {
            return; // closed while we looked: not listed this time
        }
        if (nicCount == nics.length) {
            int more = nicCount * 2;
            nics = Arrays.copyOf(nics, more);
            nicSwitch = Arrays.copyOf(nicSwitch, more);
            nicSwitchPort = Arrays.copyOf(nicSwitchPort, more);
            nicStats = Arrays.copyOf(nicStats, more);
        }
        nics[nicCount] = nic;
        nicStats[nicCount] = st;
        nicSwitch[nicCount] = null;
        nicSwitchPort[nicCount] = null;
        for (int k = 0; k < portCount; k++) { // the switch port it is attached as, the last one if several
            if (ports[k] instanceof AttachedPort ap && ap.port() == nic) {
                nicSwitch[nicCount] = portSwitch[k];
                nicSwitchPort[nicCount] = ap.name();
            }
        }
        nicCount++;
    }

    static long nicValue(NicStats st, int f) {
        return switch (f) {
            case 0 -> st.rxPackets();
            case 1 -> st.txPackets();
            case 2 -> st.rxDrops();
            case 3 -> st.txDrops();
            case 4 -> st.badSlots();
            case 5 -> st.csumCompleted();
            default -> st.segmented();
        };
    }

    /** The process's pipe ends (label {@code pipe} = the end's name): ring occupancy, the peer's state. */
    private void pipes(MetricsOut w, List<Port> open) {
        pipeCount = 0;
        for (int k = 0; k < open.size(); k++) {
            if (open.get(k) instanceof PipePort pp && !pp.isClosed()) {
                if (pipeCount == pipes.length) {
                    pipes = Arrays.copyOf(pipes, pipeCount * 2);
                    pipeValues = Arrays.copyOf(pipeValues, pipeCount * 2);
                    for (int i = pipeCount; i < pipeValues.length; i++) {
                        pipeValues[i] = new long[PIPE_FAMILIES.length];
                    }
                }
                try {
                    readPipe(pp, pipeValues[pipeCount]);
                    pipes[pipeCount++] = pp;
                } catch (IllegalStateException closedMeanwhile) {
                    // its memory went with it: not listed this time
                }
            }
        }
        for (int f = 0; f < PIPE_FAMILIES.length; f++) {
            w.family(PIPE_FAMILIES[f]);
            for (int i = 0; i < pipeCount; i++) {
                w.begin(PIPE_FAMILIES[f]).label(PIPE, pipes[i].name()).end(pipeValues[i][f]);
            }
        }
    }

    /**
     * A pipe end's values in the order of {@link #PIPE_FAMILIES}: TX and RX ring slots used, their sizes,
     * the peer open (1/0), its deaths, its faults, wake-ups sent. Throws IllegalStateException when the end
     * closed meanwhile (its memory went with it).
     */
    static void readPipe(PipePort pp, long[] v) {
        long txUsed = 0;
        long txSize = 0;
        for (int i = 0; i < pp.txRings(); i++) {
            Ring r = pp.txRing(i);
            // the backend holds [tail, head) of a TX ring, one slot of it always empty
            txUsed += Math.max(0, RingIndex.distance(r.tail(), r.head(), r.numSlots()) - 1);
            txSize += r.numSlots() - 1;
        }
        long rxUsed = 0;
        long rxSize = 0;
        for (int i = 0; i < pp.rxRings(); i++) {
            Ring r = pp.rxRing(i);
            rxUsed += RingIndex.distance(r.head(), r.tail(), r.numSlots()); // the user holds [head, tail)
            rxSize += r.numSlots() - 1;
        }
        v[0] = txUsed;
        v[1] = rxUsed;
        v[2] = txSize;
        v[3] = rxSize;
        v[4] = pp.peerOpen() ? 1 : 0;
        v[5] = pp.peerDeaths();
        v[6] = pp.peerFaults();
        v[7] = pp.wakeupsSent();
    }

    private static Family counter(String name, String help) {
        return new Family(name, "counter", help);
    }

    private static Family gauge(String name, String help) {
        return new Family(name, "gauge", help);
    }
}
