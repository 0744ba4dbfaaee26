package io.jnetmap.pipe;

import io.jnetmap.core.Geometry;
import io.jnetmap.core.IfSpec;
import io.jnetmap.core.NetmapException;
import io.jnetmap.core.NetmapIf;
import io.jnetmap.core.Port;
import io.jnetmap.core.PortName;
import io.jnetmap.core.Region;
import io.jnetmap.core.RegionLayout;
import io.jnetmap.core.RingLayout;
import io.jnetmap.core.spi.PortProvider;
import io.jnetmap.sys.Linux;

import java.util.Set;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Serves pipe names ({@code X{ID}, {@code X}ID}). Every pipe of parent X lives in the shared region
 * {@code pipe.X} (created by the first open, sized by that open's {@code @conf:}); the first end of a
 * pipe to open creates the descriptors of both ends, so a sender can fill its ring before the receiver
 * opens, and the last end to close frees both (netmap_pipe.c creates and destroys endpoints together).
 *
 * <p>{@code @conf:} keys describe the end being opened: {@code rings}/{@code tx-rings}/{@code rx-rings},
 * {@code slots}/{@code tx-slots}/{@code rx-slots} (the other end gets them mirrored), {@code extra-bufs}
 * (each end), and for a new parent region {@code pipes} (how many pipes it holds, default
 * {@value #DEFAULT_PIPES}), {@code bufs}, {@code buf-size}. They apply when they create something; an
 * existing pipe or region keeps its geometry.
 */
public final class PipeProvider implements PortProvider {
    /** Pipes a parent's region holds unless {@code @conf:pipes=} says otherwise. */
    public static final int DEFAULT_PIPES = 4;

    private static final int PID = Linux.getpid();

    @Override
    public Set<String> kinds() {
        return Set.of("pipe");
    }

    @Override
    public Port open(PortName pn) {
        if (!pn.isPipe()) {
            throw new IllegalArgumentException("name=" + pn + " (expected: a pipe end, X{ID or X}ID)");
        }
        // regions left by processes killed with -9 (pipe regions of remote ports have unique names: nobody reopens them)
        io.jnetmap.core.Janitor.sweepOnceInBackground();
        boolean master = pn.mode() == PortName.Mode.PIPE_MASTER;
        String parent = pn.parent();
        int pipes = pn.conf("pipes", DEFAULT_PIPES);
        if (pipes < 1 || pipes > 2048) {
            throw new IllegalArgumentException("pipes=" + pipes + " in " + pn + " (expected: 1..2048)");
        }
        Region region = Region.openOrCreateShared(PipeLayout.regionName(parent), geometry(pn, pipes));
        NetmapIf[] pair;
        try {
            pair = PipeLock.locked(() -> attach(region, pn, master));
        } catch (RuntimeException e) {
            region.close();
            throw e;
        }
        try {
            return new PipePort(pn, pair[0], pair[1], master);
        } catch (RuntimeException e) {
            PipeLock.locked(() -> {
                PipePort.detach(region, pair[0], pair[1]);
                return null;
            });
            region.close();
            throw e;
        }
    }

    /** The region for a new parent: room for {@code pipes} pipes shaped like the one {@code pn} opens. */
    private static Geometry geometry(PortName pn, int pipes) {
        int tx = pn.conf("tx-rings", "rings", 1);
        int rx = pn.conf("rx-rings", "rings", 1);
        int txSlots = pn.conf("tx-slots", "slots", Geometry.DEFAULT_SLOTS);
        int rxSlots = pn.conf("rx-slots", "slots", Geometry.DEFAULT_SLOTS);
        long perEnd = (long) tx * txSlots + (long) rx * rxSlots + pn.conf("extra-bufs", 0);
        long bufs = pn.conf("bufs", 0) > 0 ? pn.conf("bufs", 0) : 2L * pipes * perEnd + RegionLayout.RESERVED_BUFS;
        if (bufs > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("pipes=" + pipes + " of " + perEnd + " buffers per end in " + pn
                    + " (expected: fewer than 2^31 buffers in all)");
        }
        return new Geometry(2 * pipes, pipes * 2 * (tx + rx), Math.max(txSlots, rxSlots), (int) bufs,
                pn.conf("buf-size", Geometry.DEFAULT_BUF_SIZE));
    }

    /** Finds (or creates) both ends' descriptors and marks {@code mine} open by this process. */
    private static NetmapIf[] attach(Region region, PortName pn, boolean master) {
        String parent = pn.parent();
        // a new pipe of an existing parent defaults to the slots the parent's region was made for
        int slots = Math.min(Geometry.DEFAULT_SLOTS, region.geometry().maxSlots());
        int tx = pn.conf("tx-rings", "rings", 1);
        int rx = pn.conf("rx-rings", "rings", 1);
        int txSlots = pn.conf("tx-slots", "slots", slots);
        int rxSlots = pn.conf("rx-slots", "slots", slots);
        int extra = pn.conf("extra-bufs", 0);
        IfSpec mineSpec = new IfSpec(parent + (master ? "{" : "}") + pn.pipeId(),
                master ? PipeLayout.KIND_MASTER : PipeLayout.KIND_SLAVE, tx, rx, 0, 0, txSlots, rxSlots, extra);
        IfSpec otherSpec = new IfSpec(parent + (master ? "}" : "{") + pn.pipeId(),
                master ? PipeLayout.KIND_SLAVE : PipeLayout.KIND_MASTER, rx, tx, 0, 0, rxSlots, txSlots, extra);
        NetmapIf mine = region.findIf(mineSpec.name()).orElse(null);
        NetmapIf other = region.findIf(otherSpec.name()).orElse(null);
        if (mine == null || other == null) {
            if (mine != null || other != null) {
                throw new NetmapException.LayoutMismatch("region " + region.name() + " holds " + (mine != null ? mine : other)
                        + " without the other end of its pipe: close the processes using it, or remove the region file");
            }
            mine = allocate(region, mineSpec, pn);
            try {
                other = allocate(region, otherSpec, pn);
            } catch (RuntimeException e) {
                region.freeIf(mine);
                throw e;
            }
        }
        checkKind(mine, mineSpec.kind(), region);
        checkKind(other, otherSpec.kind(), region);
        checkMirrors(region, mine, other);
        int owner = mine.state();
        if (owner != 0 && (owner == PID || Linux.processAlive(owner))) {
            throw new NetmapException.PortBusy("cannot open " + pn + ": " + mine.name() + " is already open"
                    + (owner == PID ? " in this process" : " by process " + owner) + " (a pipe end has one user)", null);
        }
        mine.setState(PID);
        return new NetmapIf[] {mine, other};
    }

    private static NetmapIf allocate(Region region, IfSpec spec, PortName pn) {
        NetmapIf nifp;
        try {
            nifp = region.allocIf(spec);
        } catch (NetmapException.OutOfMemory e) {
            throw new NetmapException.OutOfMemory(e.getMessage() + "; " + sizedByFirstOpen(region, pn)
                    + ": give that open @conf:pipes=N (now " + region.geometry().ifs() / 2 + "), or close other pipes of " + pn.parent());
        } catch (IllegalArgumentException e) {
            throw new NetmapException("cannot open " + pn + ": " + e.getMessage() + "; " + sizedByFirstOpen(region, pn)
                    + ": use another parent, or give that open the @conf: this one needs", e);
        }
        // a new TX ring: every slot but one is the user's, which the peer states as "released up to numSlots - 1"
        for (int i = 0; i < nifp.txRings(); i++) {
            long ring = nifp.txRingOffset(i);
            int slots = region.memory().get(JAVA_INT, ring + RingLayout.NUM_SLOTS_OFFSET);
            PipeLayout.soPipeTail(region.memory(), ring, slots - 1);
        }
        return nifp;
    }

    /** TX ring k of one end and RX ring k of the other must match slot for slot. */
    private static void checkMirrors(Region region, NetmapIf mine, NetmapIf other) {
        if (mine.txRings() != other.rxRings() || mine.rxRings() != other.txRings()) {
            throw new NetmapException.LayoutMismatch("pipe " + mine.name() + " has " + mine.txRings() + " tx / " + mine.rxRings()
                    + " rx rings but its other end " + other.name() + " has " + other.txRings() + " tx / " + other.rxRings());
        }
        for (int i = 0; i < mine.txRings(); i++) {
            checkSlots(region, mine.name(), mine.txRingOffset(i), other.rxRingOffset(i));
        }
        for (int i = 0; i < mine.rxRings(); i++) {
            checkSlots(region, mine.name(), mine.rxRingOffset(i), other.txRingOffset(i));
        }
    }

    private static void checkSlots(Region region, String name, long ring, long mirror) {
        int a = region.memory().get(JAVA_INT, ring + RingLayout.NUM_SLOTS_OFFSET);
        int b = region.memory().get(JAVA_INT, mirror + RingLayout.NUM_SLOTS_OFFSET);
        if (a != b) {
            throw new NetmapException.LayoutMismatch("pipe " + name + ": a ring of " + a + " slots mirrors one of " + b);
        }
    }

    private static String sizedByFirstOpen(Region region, PortName pn) {
        return "the pipes of parent " + pn.parent() + " share region " + region.name() + ", sized when the first of them opened";
    }

    private static void checkKind(NetmapIf nifp, int kind, Region region) {
        if (nifp.kind() != kind) {
            throw new NetmapException.LayoutMismatch("region " + region.name() + " holds a port named " + nifp.name()
                    + " of kind 0x" + Integer.toHexString(nifp.kind()) + ", not a pipe end (0x" + Integer.toHexString(kind) + ")");
        }
    }
}
