package io.jnetmap.control;

import io.jnetmap.vale.AttachedPort;
import io.jnetmap.vale.LookupModule;
import io.jnetmap.vale.SwitchPort;
import io.jnetmap.vale.ValeSwitch;
import io.jnetmap.vale.ctl.SwitchFileLayout;
import io.jnetmap.vale.lookup.FlowCache;
import io.jnetmap.vale.lookup.LearningBridge;

import java.util.Arrays;
import java.util.List;

/**
 * The live page's event, one a second on {@code /api/v1/events}: {@code data: } and a JSON snapshot of
 * every switch (its ports with their counters, drops by cause and ring occupancy; its learning table's
 * first {@value #MAC_ENTRIES} entries), then a blank line. Written straight into bytes ({@link JsonOut})
 * with the members' names encoded once; equal, byte for byte, to the {@code JsonObject} tree it
 * replaces ({@link ReferenceOutputs#event}). One per event loop.
 */
final class Events implements LearningBridge.EntryVisitor {
    /** Learning-table entries an event shows per switch. */
    static final int MAC_ENTRIES = 64;

    private static final byte[] K_NAME = JsonOut.key("name");
    private static final byte[] K_BACKEND = JsonOut.key("backend");
    private static final byte[] K_KIND = JsonOut.key("kind");
    private static final byte[] K_BACK_PRESSURE = JsonOut.key("backPressure");
    private static final byte[] K_RX_PACKETS = JsonOut.key("rxPackets");
    private static final byte[] K_TX_PACKETS = JsonOut.key("txPackets");
    private static final byte[] K_RX_BYTES = JsonOut.key("rxBytes");
    private static final byte[] K_TX_BYTES = JsonOut.key("txBytes");
    private static final byte[] K_DROPS = JsonOut.key("drops");
    private static final byte[][] K_CAUSES = Arrays.stream(Metrics.DROP_CAUSES).map(JsonOut::key).toArray(byte[][]::new);
    private static final byte[] K_RX_FULL = JsonOut.key("rx_full");
    private static final byte[] K_RING_USED = JsonOut.key("ringUsed");
    private static final byte[] K_RING_SIZE = JsonOut.key("ringSize");
    private static final byte[] K_MAC = JsonOut.key("mac");
    private static final byte[] K_PORT = JsonOut.key("port");
    private static final byte[] K_IDLE = JsonOut.key("idleSeconds");

    private final JsonOut out = new JsonOut(64 * 1024);
    /** The switch's port names by index, for the learning table's entries (cleared after each switch). */
    private final String[] portNames = new String[ValeSwitch.MAX_PORTS];
    /** The learning table's first entries and the count of all, as {@link #entry} collects them. */
    private final long[] macs = new long[MAC_ENTRIES];
    private final int[] macPorts = new int[MAC_ENTRIES];
    private final long[] macIdle = new long[MAC_ENTRIES];
    private int macTotal;

    /** The event for {@code sws} at {@code timeMillis} (its "time"), idle times as of {@code nowNanos}. */
    JsonOut write(List<ValeSwitch> sws, long timeMillis, long nowNanos) {
        JsonOut o = out.reset();
        o.text("data: ").beginObject().name("time").value(timeMillis).name("switches").beginArray();
        for (int s = 0; s < sws.size(); s++) {
            ValeSwitch sw = sws.get(s);
            List<SwitchPort> ports = sw.portList();
            LookupModule m = sw.lookup();
            o.beginObject().name(K_NAME).value(sw.name())
                    .name("lookup").beginObject().name("module").value(Hosted.inner(m).name()).name("flowCache").value(m instanceof FlowCache);
            if (m instanceof FlowCache fc) {
                o.name("flowCacheHits").value(fc.hits()).name("flowCacheMisses").value(fc.misses());
            }
            o.endObject().name("ports").beginArray();
            for (int i = 0; i < ports.size(); i++) {
                port(o, ports.get(i));
            }
            o.endArray();
            LearningBridge b = Hosted.bridge(sw);
            if (b != null) {
                macTable(o, ports, b, nowNanos);
            }
            o.endObject();
        }
        return o.endArray().endObject().text("\n\n");
    }

    private static void port(JsonOut o, SwitchPort p) {
        o.beginObject().name(K_NAME).value(p.name()).name(K_BACKEND).value(p.backend())
                .name(K_KIND).value(p instanceof AttachedPort ? "attached" : "vale").name(K_BACK_PRESSURE).value(p.backPressure())
                .name(K_RX_PACKETS).value(p.rxCounter(SwitchFileLayout.RX_PACKETS))
                .name(K_TX_PACKETS).value(p.txCounter(SwitchFileLayout.TX_PACKETS))
                .name(K_RX_BYTES).value(p.rxCounter(SwitchFileLayout.RX_BYTES))
                .name(K_TX_BYTES).value(p.txCounter(SwitchFileLayout.TX_BYTES))
                .name(K_DROPS).beginObject();
        for (int i = 0; i < K_CAUSES.length; i++) {
            o.name(K_CAUSES[i]).value(p.txCounter(SwitchFileLayout.DROP_FULL + i));
        }
        o.name(K_RX_FULL).value(p.rxCounter(SwitchFileLayout.RX_DROP_FULL)).endObject()
                .name(K_RING_USED).value(ringUsed(p)).name(K_RING_SIZE).value(p.ringCapacity()).endObject();
    }

    private static int ringUsed(SwitchPort p) {
        try {
            return p.ringOccupancy();
        } catch (IllegalStateException leftMeanwhile) {
            return 0;
        }
    }

    /** As {@link RestApi#macTableJson} with {@value #MAC_ENTRIES} entries at most. */
    private void macTable(JsonOut o, List<SwitchPort> ports, LearningBridge b, long nowNanos) {
        for (int i = 0; i < ports.size(); i++) {
            SwitchPort p = ports.get(i);
            if (p.index() >= 0) {
                portNames[p.index()] = p.name();
            }
        }
        macTotal = 0;
        b.forEach(nowNanos, this);
        o.name("macTable").beginObject().name("agingSeconds").valueThousandths(b.age().toMillis())
                .name("size").value(macTotal).name("entries").beginArray();
        for (int i = 0; i < Math.min(macTotal, MAC_ENTRIES); i++) {
            String name = macPorts[i] < portNames.length ? portNames[macPorts[i]] : null;
            o.beginObject().name(K_MAC).valueMac(macs[i]).name(K_PORT).value(name != null ? name : "#" + macPorts[i]) // "#" a port gone meanwhile
                    .name(K_IDLE).valueThousandths(Math.round(macIdle[i] / 1e6)).endObject();
        }
        o.endArray().endObject();
        Arrays.fill(portNames, null);
    }

    @Override
    public void entry(long mac, int port, long idleNanos) {
        if (macTotal < MAC_ENTRIES) {
            macs[macTotal] = mac;
            macPorts[macTotal] = port;
            macIdle[macTotal] = idleNanos;
        }
        macTotal++;
    }
}
