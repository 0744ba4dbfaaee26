package io.jnetmap.core.nic;

import io.jnetmap.core.NetmapException;
import io.jnetmap.sys.Bpf;
import io.jnetmap.sys.Errno;
import io.jnetmap.sys.Linux;
import io.jnetmap.sys.NetNamespace;
import io.jnetmap.sys.SyscallException;

import java.util.HashMap;
import java.util.Map;

/**
 * The XDP side of one interface: an XSKMAP with a slot per receive queue, the redirect program
 * ({@link Bpf#xskRedirectProgram}) and the bpf link that attaches it. Shared by every port of this
 * process on the interface (so {@code netmap:eth0-0} and {@code netmap:eth0-1} can be open together),
 * detached when the last one closes, and by the kernel if the process dies (the link fd goes away).
 * Queues without a socket pass their packets on to the stack.
 */
final class XdpProgram {
    /** Attachments of this process, by namespace and interface index. */
    private static final Map<String, XdpProgram> ATTACHED = new HashMap<>();

    private final String key;
    final String ifname;
    final int ifindex;
    final int queues;
    /** "skb" (generic) or "drv" (native). */
    final String mode;
    private final int mapFd;
    private int progFd;
    /** The AF_XDP socket redirected from each queue (-1: none), to find the program of a port's queue. */
    private final int[] xsk;
    private final int linkFd;
    private final boolean[] bound;
    private int refs;

    private XdpProgram(String key, String ifname, int ifindex, int queues, String mode, int mapFd, int progFd, int linkFd) {
        this.key = key;
        this.ifname = ifname;
        this.ifindex = ifindex;
        this.queues = queues;
        this.mode = mode;
        this.mapFd = mapFd;
        this.progFd = progFd;
        this.linkFd = linkFd;
        this.bound = new boolean[queues];
        this.xsk = new int[queues];
        java.util.Arrays.fill(xsk, -1);
    }

    /** The attachment whose map redirects to socket {@code xskFd}, or null. */
    static synchronized XdpProgram ofSocket(int xskFd) {
        for (XdpProgram p : ATTACHED.values()) {
            synchronized (p) {
                for (int fd : p.xsk) {
                    if (fd == xskFd) return p;
                }
            }
        }
        return null;
    }

    /**
     * Replaces the program by one that runs the classic BPF {@code filter} ({@code count} sock_filter
     * instructions) first: matching frames are redirected as before, the others passed to the stack
     * ({@link XdpFilter}). The link's program is swapped in one step (BPF_LINK_UPDATE); every port of
     * this process on the interface sees the filter. A filter the translation or the verifier refuses
     * is thrown as UnsupportedOperationException with the reason, and the old program stays.
     */
    synchronized void setFilter(java.lang.foreign.MemorySegment filter, int count) {
        byte[] code = XdpFilter.translate(filter, count, mapFd);
        int prog;
        try {
            prog = Bpf.progLoad(Bpf.BPF_PROG_TYPE_XDP, code, "GPL", "jnetmap_filter", Bpf.BPF_XDP);
        } catch (SyscallException e) {
            throw new UnsupportedOperationException("the verifier refused the filter (" + code.length / 8 + " eBPF instructions): "
                    + e.getMessage(), e);
        }
        try {
            io.jnetmap.sys.BpfLink.update(linkFd, prog);
        } catch (SyscallException e) {
            Linux.close(prog);
            throw new UnsupportedOperationException("replacing the XDP program of " + ifname + ": " + e.getMessage(), e);
        }
        Linux.close(progFd);
        progFd = prog;
    }

    /**
     * The attachment of {@code ifname} in the calling thread's namespace, created if needed. Failing
     * system calls are thrown as they are (the caller explains them): EPERM (no CAP_BPF /
     * CAP_NET_ADMIN), EBUSY / EEXIST (another program is attached).
     *
     * @param mode "skb", "drv" or "auto" (native first, generic if the driver refuses)
     */
    static synchronized XdpProgram acquire(String ifname, int ifindex, int queues, String mode) {
        String key = NetNamespace.current() + "/" + ifindex;
        XdpProgram p = ATTACHED.get(key);
        if (p == null) {
            p = attach(key, ifname, ifindex, queues, mode);
            ATTACHED.put(key, p);
        }
        p.refs++;
        return p;
    }

    private static XdpProgram attach(String key, String ifname, int ifindex, int queues, String mode) {
        int map = Bpf.mapCreate(Bpf.BPF_MAP_TYPE_XSKMAP, 4, 4, queues, "jnetmap_xsks");
        int prog = -1;
        try {
            prog = Bpf.progLoad(Bpf.BPF_PROG_TYPE_XDP, Bpf.xskRedirectProgram(map), "GPL", "jnetmap_redir", Bpf.BPF_XDP);
            int link;
            String used;
            if (mode.equals("skb")) {
                link = Bpf.linkCreateXdp(prog, ifindex, Bpf.XDP_FLAGS_SKB_MODE);
                used = "skb";
            } else {
                try {
                    link = Bpf.linkCreateXdp(prog, ifindex, Bpf.XDP_FLAGS_DRV_MODE);
                    used = "drv";
                } catch (SyscallException e) {
                    boolean unsupported = e.errno() == Errno.EOPNOTSUPP || e.errno() == Errno.EINVAL;
                    if (mode.equals("drv") || !unsupported) {
                        throw e;
                    }
                    link = Bpf.linkCreateXdp(prog, ifindex, Bpf.XDP_FLAGS_SKB_MODE);
                    used = "skb";
                }
            }
            return new XdpProgram(key, ifname, ifindex, queues, used, map, prog, link);
        } catch (RuntimeException e) {
            if (prog >= 0) {
                Linux.close(prog);
            }
            Linux.close(map);
            throw e;
        }
    }

    /** Reserves queue {@code q} for a socket of this process; PortBusy if a port already has it. */
    synchronized void claim(int q, String portName) {
        if (q >= queues) {
            throw new IllegalArgumentException(portName + ": queue " + q + " (expected: 0.." + (queues - 1)
                    + ", interface " + ifname + " has " + queues + " receive queues)");
        }
        if (bound[q]) {
            throw new NetmapException.PortBusy(portName + ": queue " + q + " of " + ifname
                    + " is already in use by another port of this process (close it first)", null);
        }
        bound[q] = true;
    }

    /** Directs queue {@code q}'s packets to socket {@code xskFd}. */
    synchronized void redirect(int q, int xskFd) {
        Bpf.mapUpdate(mapFd, q, xskFd);
        xsk[q] = xskFd;
    }

    /** Gives queue {@code q} back: its packets go to the stack again. */
    synchronized void unclaim(int q) {
        if (q < queues && bound[q]) {
            bound[q] = false;
            xsk[q] = -1;
            try {
                Bpf.mapDelete(mapFd, q);
            } catch (SyscallException e) {
                if (e.errno() != Errno.ENOENT) { // the socket's close already removed it
                    throw e;
                }
            }
        }
    }

    /** Drops one reference; the last one detaches the program (closing the link) and frees the map. */
    void release() {
        synchronized (XdpProgram.class) {
            if (--refs > 0) {
                return;
            }
            ATTACHED.remove(key);
        }
        Linux.close(linkFd);
        Linux.close(progFd);
        Linux.close(mapFd);
    }

    @Override
    public String toString() {
        return "XdpProgram[" + ifname + " (ifindex " + ifindex + "), " + mode + " mode, " + queues + " queues]";
    }
}
