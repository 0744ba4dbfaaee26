package io.jnetmap.middlebox;

import io.jnetmap.core.Geometry;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.NetmapException;
import io.jnetmap.core.Port;
import io.jnetmap.core.PortName;
import io.jnetmap.core.RegionLayout;
import io.jnetmap.poll.WaitStrategy;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * netmap's {@code lb} on the {@link Middlebox} API: reads one port and spreads its packets over the
 * pipes {@code name{0 … name{N-1} of each group by the {@link FlowHash symmetric flow hash}, so both
 * directions of a flow meet the same consumer, which opens {@code name}K} (in any process). Every group
 * gets every packet (an IDS group and a capture group, say): the last group's pipe gets the packet
 * itself — by buffer swap when the input lives in that group's region (a {@code netmap:} input is opened
 * there with {@code @share=}, a pipe input of the same parent is there already) — the others a copy.
 * A full pipe's packets wait in {@code extraBufs} overflow buffers and are dropped, counted, only when
 * those run out.
 */
public final class LoadBalancer implements AutoCloseable {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_]+");
    /** Buffers added to the last group's region for a {@code netmap:} input opened in it (rings and AF_XDP fill). */
    private static final int NIC_SPARE_BUFS = 16384;

    /** A group of {@code pipes} pipes under parent {@code name}. */
    public record Group(String name, int pipes) {
        public Group {
            if (!NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("group name=" + name + " (expected: [A-Za-z0-9_]+)");
            }
            if (pipes < 1 || pipes > 2048) {
                throw new IllegalArgumentException("pipes=" + pipes + " in group " + name + " (expected: 1..2048)");
            }
        }

        /** {@code [name:]N}; without a name, {@code defaultName}. */
        public static Group parse(String spec, String defaultName) {
            int colon = spec.lastIndexOf(':');
            String name = colon < 0 ? defaultName : spec.substring(0, colon);
            String n = spec.substring(colon + 1);
            try {
                return new Group(name, Integer.parseInt(n));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("-p " + spec + " (expected: [name:]N, N pipes)");
            }
        }
    }

    private final Port input;
    private final List<Group> groups;
    private final List<List<Port>> pipes = new ArrayList<>();
    private final Middlebox box;
    private final int extraBufs;
    private long lastNanos;
    private long lastReceived;
    private long[] lastSent;
    private long[] lastLost;

    private LoadBalancer(String inputName, List<Group> groups, int extraBufs, int batch, WaitStrategy wait, int cpu, boolean threaded) {
        if (groups.isEmpty()) {
            throw new IllegalArgumentException("no group of pipes (expected: at least one -p [name:]N)");
        }
        for (int i = 0; i < groups.size(); i++) {
            for (int j = 0; j < i; j++) {
                if (groups.get(i).name().equals(groups.get(j).name())) {
                    throw new IllegalArgumentException("group " + groups.get(i).name() + " given twice (expected: one name per group)");
                }
            }
        }
        this.groups = List.copyOf(groups);
        this.extraBufs = extraBufs;
        PortName in = PortName.parse(inputName);
        Group last = groups.get(groups.size() - 1);
        boolean nicInput = in.kind().equals("netmap") && in.option("share") == null;
        boolean sameParent = in.isPipe() && in.parent().equals(last.name());
        List<Port> opened = new ArrayList<>();
        try {
            for (int g = groups.size() - 1; g >= 0; g--) {
                Group grp = groups.get(g);
                int regionPipes = grp.pipes();
                if (g == groups.size() - 1 && sameParent) {
                    regionPipes = Math.max(regionPipes, pipeNumber(in) + 1);
                }
                // the pipes' own buffers, then the overflow buffers and room for an input that joins the region
                long bufs = 2L * regionPipes * 2 * Geometry.DEFAULT_SLOTS + RegionLayout.RESERVED_BUFS;
                if (g == groups.size() - 1) {
                    bufs += extraBufs + (nicInput ? NIC_SPARE_BUFS : 0);
                }
                List<Port> ps = new ArrayList<>();
                for (int k = 0; k < grp.pipes(); k++) {
                    String conf = k == 0 ? "@conf:pipes=" + regionPipes + ",bufs=" + bufs : "";
                    Port p = Netmap.open(grp.name() + "{" + k + conf);
                    opened.add(p);
                    ps.add(p);
                }
                pipes.add(0, ps);
            }
            Port inPort = null;
            if (nicInput) {
                try {
                    inPort = Netmap.open(inputName + "@share=" + last.name() + "{0");
                } catch (NetmapException.OutOfMemory e) {
                    inPort = null; // the region is too small (made earlier by a consumer): copy instead
                }
            }
            this.input = inPort != null ? inPort : Netmap.open(inputName);
            opened.add(input);
            List<Port> outs = new ArrayList<>();
            int[] base = new int[groups.size()];
            int[] sizes = new int[groups.size()];
            for (int g = 0; g < groups.size(); g++) {
                base[g] = outs.size();
                sizes[g] = groups.get(g).pipes();
                outs.addAll(pipes.get(g));
            }
            int lastGroup = groups.size() - 1;
            BatchProcessor spread = b -> {
                var mem = b.memory();
                for (int k = 0, n = b.size(); k < n; k++) {
                    long h = FlowHash.hash(mem, b.offset(k), b.len(k));
                    for (int g = 0; g < lastGroup; g++) {
                        b.copy(k, base[g] + FlowHash.bucket(h, sizes[g]));
                    }
                    b.forward(k, base[lastGroup] + FlowHash.bucket(h, sizes[lastGroup]));
                }
            };
            Middlebox.Builder mb = Middlebox.builder().name("lb").input(input, outs, spread).batch(batch).wait(wait)
                    .overflow(extraBufs).overflowRegion(pipes.get(lastGroup).get(0).region());
            if (cpu >= 0) {
                mb.cpus(cpu);
            }
            this.box = threaded ? mb.start() : mb.build();
        } catch (RuntimeException e) {
            for (int i = opened.size() - 1; i >= 0; i--) {
                opened.get(i).close();
            }
            throw e;
        }
        lastNanos = System.nanoTime();
        lastSent = new long[box.outputs().size()];
        lastLost = new long[box.outputs().size()];
    }

    private static int pipeNumber(PortName pn) {
        try {
            return Integer.parseInt(pn.pipeId());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /**
     * Opens {@code input} and the pipes of every group and starts forwarding. {@code extraBufs}: overflow
     * buffers; {@code batch}: most packets per batch; {@code cpu}: pin the thread, or -1.
     */
    public static LoadBalancer start(String input, List<Group> groups, int extraBufs, int batch, WaitStrategy wait, int cpu) {
        return new LoadBalancer(input, groups, extraBufs, batch, wait, cpu, true);
    }

    /** As {@link #start}, but without a thread: the caller moves packets with {@link #runOnce()}. */
    public static LoadBalancer open(String input, List<Group> groups, int extraBufs, int batch) {
        return new LoadBalancer(input, groups, extraBufs, batch, WaitStrategy.busySpin(), -1, false);
    }

    /** One pass over the input (for a balancer made by {@link #open}); true if anything moved. */
    public boolean runOnce() {
        return box.runOnce();
    }

    public Port input() {
        return input;
    }

    /** True if the input's packets reach the last group by buffer swap. */
    public boolean zeroCopy() {
        return input.sharesMemoryWith(pipes.get(groups.size() - 1).get(0));
    }

    public List<Group> groups() {
        return groups;
    }

    /** Packets received on the input. */
    public long received() {
        return box.received(0);
    }

    /** Packets handed to pipe {@code k} of group {@code g}. */
    public long forwarded(int g, int k) {
        return box.sent(index(g, k));
    }

    /** Packets for pipe {@code k} of group {@code g} dropped: pipe full and no overflow buffer left. */
    public long dropped(int g, int k) {
        return box.lost(index(g, k));
    }

    /** Packets waiting for pipe {@code k} of group {@code g} in overflow buffers. */
    public long queued(int g, int k) {
        return box.queued(index(g, k));
    }

    /** What stopped the forwarding thread, or null. */
    public Throwable failure() {
        return box.failure();
    }

    private int index(int g, int k) {
        int i = 0;
        for (int x = 0; x < g; x++) {
            i += groups.get(x).pipes();
        }
        return i + k;
    }

    /**
     * One line of JSON with the counters and the rates since the previous call (netmap lb's fields):
     * {@code {"ts":…,"interval":…,"input":{"name":…,"received":…,"rx_pps":…},"pipes":[{"name":"lb}0",
     * "forwarded":…,"dropped":…,"tx_pps":…,"drop_pps":…,"queued":…},…],"overflow":{"buffers":…,"free":…}}}.
     */
    public synchronized String countersJson() {
        long now = System.nanoTime();
        double secs = Math.max(1e-9, (now - lastNanos) / 1e9);
        long rx = received();
        StringBuilder sb = new StringBuilder(256);
        sb.append(String.format(Locale.ROOT, "{\"ts\":%.6f,\"interval\":%.3f,\"input\":{\"name\":\"%s\",\"received\":%d,\"rx_pps\":%.0f},\"pipes\":[",
                System.currentTimeMillis() / 1000.0, secs, json(input.name()), rx, (rx - lastReceived) / secs));
        int i = 0;
        for (int g = 0; g < groups.size(); g++) {
            for (int k = 0; k < groups.get(g).pipes(); k++, i++) {
                long f = box.sent(i);
                long d = box.lost(i);
                if (i > 0) {
                    sb.append(',');
                }
                sb.append(String.format(Locale.ROOT, "{\"name\":\"%s}%d\",\"forwarded\":%d,\"dropped\":%d,\"tx_pps\":%.0f,\"drop_pps\":%.0f,\"queued\":%d}",
                        groups.get(g).name(), k, f, d, (f - lastSent[i]) / secs, (d - lastLost[i]) / secs, box.queued(i)));
                lastSent[i] = f;
                lastLost[i] = d;
            }
        }
        sb.append(String.format(Locale.ROOT, "],\"overflow\":{\"buffers\":%d,\"free\":%d}}", extraBufs, box.overflowFree()));
        lastReceived = rx;
        lastNanos = now;
        return sb.toString();
    }

    private static String json(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    /** Stops forwarding, closes the input and the pipes. Idempotent. */
    @Override
    public void close() {
        box.close();
        input.close();
        for (List<Port> ps : pipes) {
            ps.forEach(Port::close);
        }
    }
}
