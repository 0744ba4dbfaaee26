package io.jnetmap.core.nic;

import io.jnetmap.core.Geometry;
import io.jnetmap.core.IfSpec;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.NetmapException;
import io.jnetmap.core.NetmapIf;
import io.jnetmap.core.Port;
import io.jnetmap.core.PortName;
import io.jnetmap.core.Region;
import io.jnetmap.core.spi.PortProvider;
import io.jnetmap.sys.Errno;
import io.jnetmap.sys.NetDevice;
import io.jnetmap.sys.SyscallException;
import io.jnetmap.sys.Tun;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Serves {@code netmap:} ports: NIC rings of an interface on AF_XDP (default) or AF_PACKET, and
 * host-stack rings on a TAP device.
 *
 * <ul>
 *   <li>{@code netmap:IF} binds a ring pair per receive queue of IF, {@code netmap:IF-N} pair N.</li>
 *   <li>{@code @backend=xdp} / {@code @backend=packet} choose; without it AF_XDP is tried and AF_PACKET
 *       used where AF_XDP cannot work (no AF_XDP sockets, no CAP_BPF, a driver without XDP, a buffer
 *       size AF_XDP cannot take). An interface that already runs an XDP program is busy, not a
 *       reason to fall back. AF_PACKET gives one ring pair for the whole interface.</li>
 *   <li>{@code @vnet=10|12}: each frame in the port's buffers sits behind a virtio-net header with its
 *       offload state (checksum to complete, GSO super-frame as an {@code NS_MOREFRAG} chain), and TX
 *       frames bring one. Without it the port carries plain, complete, MTU-sized frames: checksums a
 *       local stack left partial are completed and super-frames segmented in the port. On a veth
 *       (whose frames come from a host stack) {@code @vnet} without {@code @backend} picks AF_PACKET:
 *       only it hands out the kernel's offload state.</li>
 *   <li>{@code netmap:IF^} is TAP device IF (created if absent, and brought up); if IF exists and is
 *       not a TAP device (a NIC), its host-stack rings are TAP device {@code IF^}. {@code netmap:IF*}
 *       is both: NIC rings on IF, host rings on TAP {@code IF^}.</li>
 * </ul>
 *
 * A port's private region has room for a second port of the same shape opened with
 * {@code @share=} (the bridge does this to forward by swapping buffers).
 */
public final class NicProvider implements PortProvider {
    private static final String CAPS_HINT = "run as root, or give the JVM the capabilities: "
            + "setcap cap_net_raw,cap_net_admin,cap_bpf+ep $JAVA_HOME/bin/java";

    @Override
    public Set<String> kinds() {
        return Set.of("netmap");
    }

    @Override
    public Port open(PortName pn) {
        return new Opening(pn, NicConfig.current()).open();
    }

    /** AF_XDP cannot serve this interface; with the automatic choice, AF_PACKET takes over. */
    private static final class XdpUnavailable extends RuntimeException {
        private static final long serialVersionUID = 1L;

        XdpUnavailable(String reason, Throwable cause) {
            super(reason, cause, false, false);
        }
    }

    /** The state of one open: what was acquired so far, released if a later step fails. */
    private static final class Opening {
        private final PortName pn;
        private final NicConfig cfg;
        private final String name;
        private final String ifname;
        private final boolean nic;
        private final boolean host;
        private final String backendOption;
        private final int txSlots;
        private final int rxSlots;
        private final int hostRings;
        private final int extraBufs;
        private final int bufSize;
        private final int vnet;
        private final List<NicQueue> opened = new ArrayList<>();
        private final Map<Integer, NicQueue> nicQueues = new LinkedHashMap<>();
        private final Map<Integer, NicQueue> hostQueues = new LinkedHashMap<>();
        private final List<Integer> claimed = new ArrayList<>();
        private XdpProgram program;
        private Region region;
        private NetmapIf nifp;
        private HostIdentity identity;

        Opening(PortName pn, NicConfig cfg) {
            this.pn = pn;
            this.cfg = cfg;
            this.name = pn.text();
            this.ifname = pn.base();
            PortName.Mode m = pn.mode();
            this.nic = m == PortName.Mode.ALL_NIC || m == PortName.Mode.ONE_NIC || m == PortName.Mode.NIC_SW;
            this.host = m == PortName.Mode.SW || m == PortName.Mode.ONE_SW || m == PortName.Mode.NIC_SW;
            this.backendOption = pn.option("backend");
            if (backendOption != null && !backendOption.equals("xdp") && !backendOption.equals("packet")) {
                throw new IllegalArgumentException(name + ": backend=" + backendOption + " (expected: xdp or packet)");
            }
            if (backendOption != null && !nic) {
                throw new IllegalArgumentException(name + ": backend=" + backendOption
                        + " (expected: no backend option: host-stack rings are always a TAP device)");
            }
            NetDevice.checkName(ifname);
            this.txSlots = pn.conf("tx-slots", "slots", Geometry.DEFAULT_SLOTS);
            this.rxSlots = pn.conf("rx-slots", "slots", Geometry.DEFAULT_SLOTS);
            this.hostRings = pn.conf("host-tx-rings", "host-rings", pn.conf("host-rx-rings", "host-rings", 1));
            this.extraBufs = pn.conf("extra-bufs", 0);
            this.bufSize = pn.conf("buf-size", Geometry.DEFAULT_BUF_SIZE);
            this.vnet = pn.vnetHdrLen();
            if (vnet != 0 && host) {
                throw new IllegalArgumentException(name + ": vnet=" + vnet
                        + " (expected: no vnet option on host-stack rings: a TAP port carries plain frames)");
            }
            if (pn.conf().containsKey("rings") || pn.conf().containsKey("tx-rings") || pn.conf().containsKey("rx-rings")) {
                throw new IllegalArgumentException(name + ": conf rings= (expected: no ring count for a NIC port:"
                        + " it has one ring pair per queue of the interface; change queues with ethtool -L or"
                        + " numtxqueues/numrxqueues for veth)");
            }
        }

        Port open() {
            try {
                return openChecked();
            } catch (RuntimeException e) {
                releaseAll();
                throw e;
            }
        }

        private Port openChecked() {
            int ifindex = 0;
            String nicBackend = null;
            if (nic) {
                ifindex = NetDevice.index(ifname);
                if (ifindex == 0) {
                    throw new NetmapException.NoSuchInterface(name + ": no network interface \"" + ifname
                            + "\" in the network namespace of process " + ProcessHandle.current().pid()
                            + " (ip link lists them; run in the interface's namespace"
                            + " with ip netns exec)", null);
                }
            }
            String tap = host ? tapNameFor() : null;
            if (nic) {
                if ("packet".equals(backendOption)
                        || backendOption == null && vnet != 0 && NetDevice.driver(ifname).equals("veth")) {
                    nicBackend = openPacket(ifindex);
                } else {
                    NetDevice.Queues q = NetDevice.queues(ifname);
                    try {
                        nicBackend = openXdp(ifindex, q.rx(), q.tx());
                    } catch (XdpUnavailable e) {
                        if ("xdp".equals(backendOption)) {
                            throw new NetmapException(name + ": AF_XDP cannot be used: " + e.getMessage(), e.getCause());
                        }
                        releaseAll();
                        nicBackend = openPacket(ifindex);
                    }
                }
            } else {
                allocate(0, 0);
            }
            if (host) {
                openTap(tap);
            }
            String backend = nicBackend == null ? "tap" : host ? nicBackend + "+tap" : nicBackend;
            XdpProgram prog = program;
            List<Integer> claims = List.copyOf(claimed);
            HostIdentity moved = identity;
            return new NicPort(pn, nifp, backend, nic ? ifname : null, tap, nicQueues, hostQueues, () -> {
                if (prog != null) {
                    for (int q : claims) {
                        prog.unclaim(q);
                    }
                    prog.release();
                }
                if (moved != null) {
                    moved.restore(); // the TAP is gone with its queues: IF gets its addresses and routes back
                }
            });
        }

        /** The NIC ring pairs this open binds, among {@code rings}. */
        private List<Integer> boundNicRings(int rings) {
            if (pn.mode() == PortName.Mode.ONE_NIC) {
                if (pn.ringId() >= rings) {
                    throw new IllegalArgumentException(name + ": ring=" + pn.ringId() + " (expected: 0.." + (rings - 1)
                            + ", " + ifname + " has " + rings + " receive queue" + (rings == 1 ? "" : "s") + ")");
                }
                return List.of(pn.ringId());
            }
            List<Integer> all = new ArrayList<>();
            for (int i = 0; i < rings; i++) {
                all.add(i);
            }
            return all;
        }

        /** Region and descriptor: NIC rings, host rings, and {@code spare} buffers for the kernel. */
        private void allocate(int nicRings, int spare) {
            int hRings = host ? hostRings : 0;
            int total = 2 * (nicRings + hRings);
            String share = pn.option("share");
            if (share != null) {
                region = Netmap.shareRegionOf(share);
            } else {
                long need = (long) (nicRings + hRings) * (txSlots + rxSlots) + extraBufs + spare;
                int bufs = (int) Math.min(Integer.MAX_VALUE, 2 * need + 2);
                region = Region.createPrivate(new Geometry(4, Math.max(1, 2 * total), Math.max(txSlots, rxSlots),
                        pn.conf("bufs", bufs), bufSize));
            }
            nifp = region.allocIf(new IfSpec(pn.withoutOptions(), NicPort.KIND, nicRings, nicRings, hRings, hRings,
                    txSlots, rxSlots, extraBufs));
        }

        // ------------------------------------------------------------------------------------------
        // AF_XDP

        private String openXdp(int ifindex, int queues, int txQueues) {
            if (bufSize < 2048 || bufSize > 4096) {
                throw new XdpUnavailable("buf-size=" + bufSize + " (AF_XDP needs 2048..4096)", null);
            }
            List<Integer> rings = boundNicRings(queues);
            boolean rxBound = !pn.hasFlag(PortName.TX_RINGS_ONLY);
            allocate(queues, rxBound ? rings.size() * cfg.xdpFill() : 0);
            String mode = cfg.xdpMode();
            // auto is native first, also on veth: the kernel then turns GSO off on the veth's peer, so no
            // super-frame reaches the program (generic XDP drops them); partial checksums: see XskQueue
            try {
                program = XdpProgram.acquire(ifname, ifindex, queues, mode);
            } catch (SyscallException e) {
                throw xdpFailure(e, "attaching the XDP program to " + ifname);
            }
            int txSize = Integer.highestOneBit(Math.max(64, txSlots - 1)) << 1;
            boolean zeroCopy = false;
            for (int q : rings) {
                program.claim(q, name);
                claimed.add(q);
                XskQueue xq;
                try {
                    xq = XskQueue.open(name, ifindex, q, region, cfg.xdpFill(), txSize, txSlots, q < txQueues, vnet);
                } catch (SyscallException e) {
                    throw xdpFailure(e, "an AF_XDP socket on queue " + q + " of " + ifname);
                }
                opened.add(xq);
                nicQueues.put(q, xq);
                zeroCopy |= xq.zeroCopy();
                if (rxBound) {
                    program.redirect(q, xq.fd());
                }
            }
            return "af_xdp/" + (zeroCopy ? "zerocopy" : "copy") + "/" + program.mode;
        }

        private RuntimeException xdpFailure(SyscallException e, String doing) {
            int err = e.errno();
            if (err == Errno.EBUSY || err == Errno.EEXIST) {
                return new NetmapException.PortBusy(name + ": " + ifname + " is in use: " + doing + " failed with "
                        + e.errnoName() + " (another process has a netmap port on it, or an XDP program was attached"
                        + " with ip link / xdp-loader: close it, or detach it with 'ip link set dev " + ifname + " xdp off')", e);
            }
            if (err == Errno.EPERM || err == Errno.EACCES) {
                if (e.call().startsWith("socket")) {
                    return permission(e);
                }
                return new XdpUnavailable(doing + " needs CAP_BPF and CAP_NET_ADMIN (" + e.getMessage() + ")", e);
            }
            if (err == Errno.EAFNOSUPPORT || err == Errno.EPROTONOSUPPORT || err == Errno.EOPNOTSUPP
                    || err == Errno.EINVAL || err == Errno.ENOSYS) {
                return new XdpUnavailable(doing + ": " + e.getMessage(), e);
            }
            return new NetmapException(name + ": " + doing + ": " + e.getMessage(), e);
        }

        // ------------------------------------------------------------------------------------------
        // AF_PACKET

        private String openPacket(int ifindex) {
            if (pn.mode() == PortName.Mode.ONE_NIC && pn.ringId() != 0) {
                throw new IllegalArgumentException(name + ": ring=" + pn.ringId()
                        + " (expected: 0: the AF_PACKET backend has one ring pair for the whole interface)");
            }
            allocate(1, 0);
            PacketQueue q;
            try {
                q = PacketQueue.open(name, ifindex, region, cfg.packetBlockSize(), cfg.packetBlocks(), cfg.packetRetireMs(),
                        txSlots, vnet);
            } catch (SyscallException e) {
                if (e.errno() == Errno.EPERM || e.errno() == Errno.EACCES) {
                    throw permission(e);
                }
                throw new NetmapException(name + ": an AF_PACKET socket on " + ifname + ": " + e.getMessage(), e);
            }
            opened.add(q);
            nicQueues.put(0, q);
            return vnet != 0 ? "af_packet/tpacket_v2+sendmmsg+vnet" : "af_packet/tpacket_v3+sendmmsg";
        }

        private NetmapException permission(SyscallException e) {
            return new NetmapException.PermissionDenied(name + ": permission denied: raw sockets (AF_XDP, AF_PACKET)"
                    + " need CAP_NET_RAW, attaching XDP needs CAP_BPF and CAP_NET_ADMIN; " + CAPS_HINT + " ("
                    + e.getMessage() + ")", e);
        }

        // ------------------------------------------------------------------------------------------
        // TAP

        /** TAP IF when IF is absent or a TAP device, else TAP {@code IF^} (the host side of NIC IF). */
        private String tapNameFor() {
            boolean exists = NetDevice.index(ifname) != 0;
            String tap = !nic && (!exists || NetDevice.driver(ifname).equals("tun")) ? ifname : ifname + "^";
            try {
                NetDevice.checkName(tap);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(name + ": the host-stack TAP device would be called \"" + tap
                        + "\" (expected: an interface name of at most 14 characters, so that IF^ fits)");
            }
            return tap;
        }

        private void openTap(String tap) {
            List<Integer> rings = new ArrayList<>();
            if (pn.mode() == PortName.Mode.ONE_SW) {
                if (pn.ringId() >= hostRings) {
                    throw new IllegalArgumentException(name + ": host ring=" + pn.ringId() + " (expected: 0.."
                            + (hostRings - 1) + ", with @conf:host-rings=" + hostRings + ")");
                }
                rings.add(pn.ringId());
            } else {
                for (int i = 0; i < hostRings; i++) {
                    rings.add(i);
                }
            }
            boolean existed = NetDevice.index(tap) != 0;
            for (int h : rings) {
                int fd;
                try {
                    fd = Tun.openTap(tap, hostRings > 1);
                } catch (SyscallException e) {
                    throw tapFailure(tap, e);
                }
                TapQueue q = new TapQueue(name, fd, region);
                opened.add(q);
                hostQueues.put(h, q);
            }
            if (!tap.equals(ifname)) {
                identity = HostIdentity.takeOver(ifname, tap); // the host side of NIC IF keeps IF's identity
            }
            if (!existed) {
                NetDevice.setUp(tap); // a TAP we made: up, so that written frames reach the stack
            }
        }

        private NetmapException tapFailure(String tap, SyscallException e) {
            int err = e.errno();
            if (err == Errno.EPERM || err == Errno.EACCES) {
                return new NetmapException.PermissionDenied(name + ": permission denied: TAP devices need CAP_NET_ADMIN; "
                        + CAPS_HINT + " (" + e.getMessage() + ")", e);
            }
            if (err == Errno.EBUSY) {
                return new NetmapException.PortBusy(name + ": TAP device " + tap + " is in use by another process"
                        + " (" + e.getMessage() + ")", e);
            }
            if (err == Errno.ENOENT || err == Errno.ENODEV) {
                return new NetmapException(name + ": " + Tun.DEVICE + " is missing (kernel without TUN/TAP?): "
                        + e.getMessage(), e);
            }
            return new NetmapException(name + ": cannot open TAP device " + tap + " (is \"" + tap
                    + "\" another kind of interface, or a TAP made with other flags?): " + e.getMessage(), e);
        }

        // ------------------------------------------------------------------------------------------

        /** Undoes everything acquired so far (also before falling back from AF_XDP to AF_PACKET). */
        private void releaseAll() {
            for (NicQueue q : opened) {
                try {
                    q.close();
                } catch (RuntimeException ignored) {
                    // the original failure is what the caller needs
                }
            }
            opened.clear();
            if (identity != null) {
                try {
                    identity.restore();
                } catch (RuntimeException ignored) {
                    // the original failure is what the caller needs; its record lets info --gc retry
                }
                identity = null;
            }
            nicQueues.clear();
            hostQueues.clear();
            if (program != null) {
                for (int q : claimed) {
                    program.unclaim(q);
                }
                program.release();
                program = null;
            }
            claimed.clear();
            if (nifp != null) {
                region.freeIf(nifp);
                nifp = null;
            }
            if (region != null) {
                region.close();
                region = null;
            }
        }
    }
}
