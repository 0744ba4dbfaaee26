package io.jnetmap.core.nic;

import io.jnetmap.core.NetmapException;
import io.jnetmap.core.Region;
import io.jnetmap.core.ShmDirectory;
import io.jnetmap.sys.Errno;
import io.jnetmap.sys.Linux;
import io.jnetmap.sys.NetDevice;
import io.jnetmap.sys.NetNamespace;
import io.jnetmap.sys.RtNetlink;
import io.jnetmap.sys.RtNetlink.Attr;
import io.jnetmap.sys.SyscallException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

import static io.jnetmap.sys.RtNetlink.*;

/**
 * The identity of a NIC moved to the TAP of its host-stack rings while a {@code netmap:IF^} or
 * {@code netmap:IF*} port is open, so that the namespace's connectivity stays as it was (netmap's host
 * rings are transparent: the stack keeps its addresses and routes while a program sits between it and
 * the wire).
 *
 * <p>At open, before the TAP {@code IF^} comes up: the TAP takes IF's MAC address, MTU and IPv6 on/off
 * setting; then IF's IPv4 and IPv6 addresses (prefix length, scope, flags, lifetimes, label) and its
 * routes in every table but {@code local} (the default route included; not the kernel's own prefix and
 * link-local routes, which follow the addresses, nor routes learnt from router advertisements) are
 * deleted from IF and added to the TAP; IPv6 is switched off on IF (its link-local address would
 * otherwise stay and the kernel would keep soliciting through it), and IF gets {@code rp_filter=1},
 * {@code arp_ignore=8} (see {@link #IPV4_WHILE_MOVED}). IF keeps its MAC address: the
 * hardware filters on it, and nothing in the stack uses IF any more. At close, after the TAP is gone,
 * IF gets back its IPv6 and IPv4 settings, the same addresses and the same routes (all through rtnetlink).
 *
 * <p>What was moved is written first, to {@code .host/<netns inode>.<IF>} in the region directory
 * ({@link Region#directory()}), with the owner's pid and start time, so that a process killed with the
 * port open leaves enough to put things back: the next host-stack open in the same network namespace,
 * or {@code bin/jnetmap info --gc}, restores every record whose owner is dead and whose TAP is gone.
 * A port closed from a thread in another namespace still restores in its own (it keeps a descriptor of
 * it). Netlink only reaches the calling thread's namespace: a record of another namespace is reported, not
 * restored (run {@code ip netns exec NS bin/jnetmap info --gc}); one whose namespace no longer exists
 * (and its interface with it) is removed.
 */
public final class HostIdentity {
    private static final System.Logger LOG = System.getLogger(HostIdentity.class.getName());
    private static final HexFormat HEX = HexFormat.of();
    private static final int EADDRNOTAVAIL = 99;
    /** Route attributes kept in a record; the output interface is set anew, the rest is the kernel's state. */
    private static final Set<Integer> ROUTE_ATTRS = Set.of(RTA_DST, RTA_SRC, RTA_GATEWAY, RTA_PRIORITY, RTA_PREFSRC,
            RTA_METRICS, RTA_TABLE, RTA_MARK, RTA_VIA, RTA_PREF);
    private static final Set<Integer> ADDR_ATTRS = Set.of(IFA_ADDRESS, IFA_LOCAL, IFA_LABEL, IFA_BROADCAST, IFA_ANYCAST,
            IFA_CACHEINFO, IFA_FLAGS, IFA_RT_PRIORITY, IFA_PROTO);
    private static final int RTNH_F_ONLINK = 4;
    /**
     * IF's IPv4 settings while moved: strict reverse-path filtering and no ARP replies, so that frames
     * the stack still gets on IF itself (AF_PACKET backend) are not answered twice, once there and once
     * through the TAP.
     */
    private static final String[][] IPV4_WHILE_MOVED = {{"rp_filter", "1"}, {"arp_ignore", "8"}};
    private static final int ARPHRD_ETHER = 1;
    private static final String THREAD_NETNS = "/proc/thread-self/ns/net";

    private final Rec rec;
    /** The namespace the move was made in: restore goes there, whichever thread closes the port. */
    private final int netnsFd;
    private boolean restored;

    private HostIdentity(Rec rec, int netnsFd) {
        this.rec = rec;
        this.netnsFd = netnsFd;
    }

    /** What one record holds. {@code ipv6Off}: IPv6 was on on IF and is switched off while moved. */
    private record Rec(Path file, long pid, long start, String netns, String ifname, String tap, boolean ipv6Off,
                       List<String> ipv4Conf, List<byte[]> addrs, List<byte[]> routes) {
    }

    /** A record as {@code bin/jnetmap info} shows it. */
    public record Status(Path file, String ifname, String tap, long pid, boolean ownerAlive, boolean thisNamespace,
                         boolean tapExists, int addrs, int routes) {
        /** The owner is dead: restored by the next host-stack open or {@code info --gc} (where it can be). */
        public boolean stale() {
            return !ownerAlive;
        }

        @Override
        public String toString() {
            String state = ownerAlive ? "in use"
                    : !thisNamespace ? "STALE (owner dead; in another network namespace: run info --gc there)"
                    : tapExists ? "STALE (owner dead but " + tap + " still exists: remove it, then info --gc)"
                    : "STALE (owner dead: info --gc restores it)";
            return String.format("%-16s -> %-16s pid %d, %d address%s, %d route%s: %s", ifname, tap, pid, addrs,
                    addrs == 1 ? "" : "es", routes, routes == 1 ? "" : "s", state);
        }
    }

    // ----------------------------------------------------------------------------------------------
    // open and close

    /**
     * Moves NIC {@code ifname}'s identity to TAP {@code tap} (open, not necessarily up yet) and brings
     * the TAP up. Restores stale records of this namespace first. Returns null, moving nothing, if
     * another live port already moved it or IF is not an Ethernet device (loopback, L3 tunnel).
     */
    static HostIdentity takeOver(String ifname, String tap) {
        synchronized (HostIdentity.class) {
            return ShmDirectory.locked(".host.lock", () -> {
                gcLocked(tap);
                String netns = netnsInode();
                Path file = directory().resolve(netns + "." + ifname);
                if (Files.exists(file)) {
                    return null; // a live owner (gc left it): its move stands
                }
                try (RtNetlink nl = RtNetlink.open()) {
                    byte[] link = nl.get(RTM_GETLINK, ifinfomsg(NetDevice.index(ifname))).body();
                    if (ByteBuffer.wrap(link).order(ByteOrder.nativeOrder()).getShort(2) != ARPHRD_ETHER) {
                        return null; // loopback, L3 tunnels: an Ethernet TAP cannot stand in for them
                    }
                    Rec rec = snapshot(nl, file, netns, ifname, tap);
                    int netnsFd = Linux.open(THREAD_NETNS, Linux.O_RDONLY | Linux.O_CLOEXEC, 0);
                    write(rec);
                    try {
                        move(nl, rec);
                    } catch (RuntimeException e) {
                        Linux.close(netnsFd);
                        try {
                            restore(nl, rec);
                        } catch (RuntimeException r) {
                            e.addSuppressed(r);
                        }
                        throw new NetmapException("netmap:" + ifname + "^: cannot move " + ifname
                                + "'s addresses and routes to " + tap + ": " + e.getMessage(), e);
                    }
                    return new HostIdentity(rec, netnsFd);
                }
            });
        }
    }

    /** Gives IF back what was moved (the TAP should be gone by now). Idempotent. */
    void restore() {
        synchronized (HostIdentity.class) {
            if (restored) {
                return;
            }
            restored = true;
            int previous = -1;
            try {
                if (!netnsInode().equals(rec.netns)) { // closed from a thread in another namespace
                    previous = Linux.open(THREAD_NETNS, Linux.O_RDONLY | Linux.O_CLOEXEC, 0);
                    Linux.setns(netnsFd, NetNamespace.CLONE_NEWNET);
                }
                ShmDirectory.locked(".host.lock", () -> {
                    try (RtNetlink nl = RtNetlink.open()) {
                        restore(nl, rec);
                    }
                    return null;
                });
            } finally {
                if (previous >= 0) {
                    try {
                        Linux.setns(previous, NetNamespace.CLONE_NEWNET);
                    } finally {
                        Linux.close(previous);
                    }
                }
                Linux.close(netnsFd);
            }
        }
    }

    private static Rec snapshot(RtNetlink nl, Path file, String netns, String ifname, String tap) {
        int index = NetDevice.index(ifname);
        if (index == 0) {
            throw new NetmapException.NoSuchInterface("no interface " + ifname, null);
        }
        List<byte[]> addrs = new ArrayList<>();
        for (int family : new int[]{2, AF_INET6}) {
            byte[] h = new byte[IFADDRMSG_SIZE];
            h[0] = (byte) family;
            for (Message m : nl.dump(RTM_GETADDR, h)) {
                ByteBuffer b = ByteBuffer.wrap(m.body()).order(ByteOrder.nativeOrder());
                if (m.type() == RTM_NEWADDR && b.getInt(4) == index) {
                    addrs.add(filter(m.body(), IFADDRMSG_SIZE, ADDR_ATTRS));
                }
            }
        }
        List<byte[]> routes = new ArrayList<>();
        for (int family : new int[]{2, AF_INET6}) {
            byte[] h = new byte[RTMSG_SIZE];
            h[0] = (byte) family;
            for (Message m : nl.dump(RTM_GETROUTE, h)) {
                if (m.type() != RTM_NEWROUTE) {
                    continue;
                }
                byte[] body = m.body();
                List<Attr> attrs = RtNetlink.attrs(body, RTMSG_SIZE);
                Attr oif = RtNetlink.attr(attrs, RTA_OIF);
                Attr table = RtNetlink.attr(attrs, RTA_TABLE);
                int t = table != null ? table.asInt() : Byte.toUnsignedInt(body[4]);
                int proto = Byte.toUnsignedInt(body[5]);
                if (oif == null || oif.asInt() != index || t == RT_TABLE_LOCAL || proto == RTPROT_KERNEL
                        || proto == RTPROT_RA || RtNetlink.attr(attrs, RTA_MULTIPATH) != null) {
                    continue;
                }
                byte[] r = filter(body, RTMSG_SIZE, ROUTE_ATTRS);
                ByteBuffer.wrap(r).order(ByteOrder.nativeOrder()).putInt(8,
                        ByteBuffer.wrap(body).order(ByteOrder.nativeOrder()).getInt(8) & RTNH_F_ONLINK);
                routes.add(r);
            }
        }
        boolean ipv6Off = "0".equals(readSysctl(ifname));
        List<String> ipv4Conf = new ArrayList<>();
        for (String[] kv : IPV4_WHILE_MOVED) {
            String was = readConf(ipv4Conf(ifname, kv[0]));
            if (was != null) {
                ipv4Conf.add(kv[0] + " " + was);
            }
        }
        return new Rec(file, ProcessHandle.current().pid(), startTime(ProcessHandle.current().pid()), netns, ifname,
                tap, ipv6Off, ipv4Conf, addrs, routes);
    }

    private static void move(RtNetlink nl, Rec rec) {
        int ifIndex = NetDevice.index(rec.ifname);
        int tapIndex = NetDevice.index(rec.tap);
        Message link = nl.get(RTM_GETLINK, ifinfomsg(ifIndex));
        List<Attr> la = RtNetlink.attrs(link.body(), IFINFOMSG_SIZE);
        Body set = new Body(ifinfomsg(tapIndex));
        Attr mac = RtNetlink.attr(la, IFLA_ADDRESS);
        if (mac != null) {
            set.attr(IFLA_ADDRESS, mac.value());
        }
        set.attrInt(IFLA_MTU, RtNetlink.attr(la, IFLA_MTU).asInt());
        nl.request(RTM_SETLINK, 0, set.bytes());
        String v6 = readSysctl(rec.ifname);
        if (v6 != null && readSysctl(rec.tap) != null) {
            writeSysctl(rec.tap, v6); // before up: the TAP's link-local address is made from IF's MAC, as IF's was
        }
        NetDevice.setUp(rec.tap);
        for (byte[] r : rec.routes) {
            nl.request(RTM_DELROUTE, 0, onInterface(r, ifIndex), Errno.ESRCH);
        }
        for (int i = rec.addrs.size() - 1; i >= 0; i--) { // secondaries (listed after) before their primary
            nl.request(RTM_DELADDR, 0, addrOn(rec.addrs.get(i), ifIndex, false), EADDRNOTAVAIL, Errno.ENODEV);
        }
        if (rec.ipv6Off) {
            writeSysctl(rec.ifname, "1");
        }
        for (String[] kv : IPV4_WHILE_MOVED) {
            if (readConf(ipv4Conf(rec.ifname, kv[0])) != null) {
                writeConf(ipv4Conf(rec.ifname, kv[0]), kv[1]);
            }
        }
        for (byte[] a : rec.addrs) {
            nl.request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, addrOn(a, tapIndex, true), Errno.EEXIST);
        }
        addRoutes(nl, rec.routes, tapIndex, rec.tap);
    }

    private static void restore(RtNetlink nl, Rec rec) {
        int tapIndex = NetDevice.index(rec.tap);
        if (tapIndex != 0) { // a persistent TAP outlives the port: it gives back what it took
            for (byte[] r : rec.routes) {
                nl.request(RTM_DELROUTE, 0, onInterface(r, tapIndex), Errno.ESRCH, Errno.ENODEV);
            }
            for (int i = rec.addrs.size() - 1; i >= 0; i--) {
                nl.request(RTM_DELADDR, 0, addrOn(rec.addrs.get(i), tapIndex, false), EADDRNOTAVAIL, Errno.ENODEV);
            }
        }
        int ifIndex = NetDevice.index(rec.ifname);
        if (ifIndex != 0) {
            if (rec.ipv6Off) {
                writeSysctl(rec.ifname, "0");
            }
            for (String kv : rec.ipv4Conf) {
                String[] f = kv.split(" ", 2);
                writeConf(ipv4Conf(rec.ifname, f[0]), f[1]);
            }
            for (byte[] a : rec.addrs) {
                nl.request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, addrOn(a, ifIndex, false), Errno.EEXIST);
            }
            addRoutes(nl, rec.routes, ifIndex, rec.ifname);
        }
        try {
            Files.deleteIfExists(rec.file);
        } catch (IOException e) {
            throw new NetmapException("cannot remove host-stack record " + rec.file + ": " + e, e);
        }
    }

    /** Adds routes through {@code index}, in passes, since a route through a gateway needs the gateway's route. */
    private static void addRoutes(RtNetlink nl, List<byte[]> routes, int index, String dev) {
        List<byte[]> left = new ArrayList<>(routes);
        SyscallException last = null;
        while (!left.isEmpty()) {
            List<byte[]> failed = new ArrayList<>();
            for (byte[] r : left) {
                try {
                    nl.request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, onInterface(r, index), Errno.EEXIST);
                } catch (SyscallException e) {
                    failed.add(r);
                    last = e;
                }
            }
            if (failed.size() == left.size()) {
                LOG.log(System.Logger.Level.WARNING, failed.size() + " route(s) could not be added to " + dev + ": "
                        + last.getMessage());
                return;
            }
            left = failed;
        }
    }

    /** Route {@code r} (header + kept attributes) through interface {@code index}. */
    private static byte[] onInterface(byte[] r, int index) {
        byte[] h = new byte[RTMSG_SIZE];
        System.arraycopy(r, 0, h, 0, RTMSG_SIZE);
        Body b = new Body(h);
        for (Attr a : RtNetlink.attrs(r, RTMSG_SIZE)) {
            b.attr(a.type(), a.value());
        }
        return b.attrInt(RTA_OIF, index).bytes();
    }

    /**
     * Address {@code a} on interface {@code index}. On the TAP: without IF's label (labels are named
     * after their device) and without duplicate address detection (the address is not new on the link).
     */
    private static byte[] addrOn(byte[] a, int index, boolean toTap) {
        byte[] h = new byte[IFADDRMSG_SIZE];
        System.arraycopy(a, 0, h, 0, IFADDRMSG_SIZE);
        ByteBuffer.wrap(h).order(ByteOrder.nativeOrder()).putInt(4, index);
        if (toTap && h[0] == AF_INET6) {
            h[2] |= IFA_F_NODAD;
        }
        Body b = new Body(h);
        for (Attr at : RtNetlink.attrs(a, IFADDRMSG_SIZE)) {
            if (toTap && at.type() == IFA_LABEL) {
                continue;
            }
            if (toTap && at.type() == IFA_FLAGS && h[0] == AF_INET6) {
                b.attrInt(IFA_FLAGS, at.asInt() | IFA_F_NODAD);
                continue;
            }
            b.attr(at.type(), at.value());
        }
        return b.bytes();
    }

    private static byte[] filter(byte[] body, int headerSize, Set<Integer> keep) {
        byte[] h = new byte[headerSize];
        System.arraycopy(body, 0, h, 0, headerSize);
        Body b = new Body(h);
        for (Attr a : RtNetlink.attrs(body, headerSize)) {
            if (keep.contains(a.type())) {
                b.attr(a.type(), a.value());
            }
        }
        return b.bytes();
    }

    // ----------------------------------------------------------------------------------------------
    // records

    /** Where records live: {@code .host/} in the region directory. */
    public static Path directory() {
        return Region.directory().resolve(".host");
    }

    private static void write(Rec r) {
        StringBuilder s = new StringBuilder("# jnetmap: ").append(r.ifname).append("'s addresses and routes, moved to ")
                .append(r.tap).append(" while a host-stack port is open (bin/jnetmap info --gc restores them)\n");
        s.append("pid ").append(r.pid).append('\n').append("start ").append(r.start).append('\n');
        s.append("netns ").append(r.netns).append('\n').append("if ").append(r.ifname).append('\n');
        s.append("tap ").append(r.tap).append('\n').append("ipv6-off ").append(r.ipv6Off ? 1 : 0).append('\n');
        for (String kv : r.ipv4Conf) {
            s.append("ipv4-conf ").append(kv).append('\n');
        }
        for (byte[] a : r.addrs) {
            s.append("addr ").append(HEX.formatHex(a)).append('\n');
        }
        for (byte[] rt : r.routes) {
            s.append("route ").append(HEX.formatHex(rt)).append('\n');
        }
        try {
            Files.createDirectories(r.file.getParent());
            Path tmp = r.file.resolveSibling(r.file.getFileName() + ".tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(tmp, s);
            Files.move(tmp, r.file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new NetmapException("cannot write host-stack record " + r.file + ": " + e, e);
        }
    }

    private static Rec read(Path f) throws IOException {
        long pid = 0;
        long start = 0;
        String netns = null;
        String ifname = null;
        String tap = null;
        boolean v6 = false;
        List<String> conf = new ArrayList<>();
        List<byte[]> addrs = new ArrayList<>();
        List<byte[]> routes = new ArrayList<>();
        for (String line : Files.readAllLines(f)) {
            int sp = line.indexOf(' ');
            if (line.startsWith("#") || sp < 0) {
                continue;
            }
            String v = line.substring(sp + 1).trim();
            switch (line.substring(0, sp)) {
                case "pid" -> pid = Long.parseLong(v);
                case "start" -> start = Long.parseLong(v);
                case "netns" -> netns = v;
                case "if" -> ifname = v;
                case "tap" -> tap = v;
                case "ipv6-off" -> v6 = v.equals("1");
                case "ipv4-conf" -> conf.add(v);
                case "addr" -> addrs.add(HEX.parseHex(v));
                case "route" -> routes.add(HEX.parseHex(v));
                default -> {
                }
            }
        }
        if (pid == 0 || netns == null || ifname == null || tap == null) {
            throw new IOException("not a host-stack record (pid, netns, if and tap lines expected)");
        }
        return new Rec(f, pid, start, netns, ifname, tap, v6, conf, addrs, routes);
    }

    private static List<Path> recordFiles() {
        Path dir = directory();
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (var s = Files.list(dir)) {
            return s.filter(p -> !p.getFileName().toString().endsWith(".tmp")).sorted().toList();
        } catch (IOException e) {
            throw new NetmapException("cannot list " + dir + ": " + e, e);
        }
    }

    /** Every record, with its state as seen from this thread's network namespace. */
    public static List<Status> records() {
        String netns = netnsInode();
        List<Status> out = new ArrayList<>();
        for (Path f : recordFiles()) {
            try {
                Rec r = read(f);
                boolean here = r.netns.equals(netns);
                out.add(new Status(f, r.ifname, r.tap, r.pid, alive(r), here, here && NetDevice.index(r.tap) != 0,
                        r.addrs.size(), r.routes.size()));
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "unreadable host-stack record " + f + ": " + e.getMessage());
            }
        }
        return out;
    }

    /**
     * Restores every record of this namespace whose owner is dead and whose TAP is gone, and removes
     * records of namespaces that no longer exist. Returns one line per record it acted on or left.
     */
    public static List<String> gc() {
        synchronized (HostIdentity.class) {
            return ShmDirectory.locked(".host.lock", () -> gcLocked(null));
        }
    }

    /** {@code ownTap}: the TAP the caller has just opened, which stands for no earlier owner. */
    private static List<String> gcLocked(String ownTap) {
        List<String> out = new ArrayList<>();
        String netns = netnsInode();
        List<Path> files = recordFiles();
        if (files.isEmpty()) {
            return out;
        }
        try (RtNetlink nl = RtNetlink.open()) {
            for (Path f : files) {
                Rec r;
                try {
                    r = read(f);
                } catch (IOException | RuntimeException e) {
                    out.add(f.getFileName() + ": unreadable, left alone (" + e.getMessage() + ")");
                    continue;
                }
                if (alive(r)) {
                    continue;
                }
                if (!r.netns.equals(netns)) {
                    if (!namespaceExists(r.netns)) {
                        deleteQuietly(f);
                        out.add(r.ifname + ": removed the record of dead pid " + r.pid + " (its network namespace "
                                + r.netns + " no longer exists)");
                    } else {
                        out.add(r.ifname + ": left the record of dead pid " + r.pid + ": it belongs to network namespace "
                                + r.netns + " (this is " + netns + "); run info --gc there");
                    }
                    continue;
                }
                if (!r.tap.equals(ownTap) && NetDevice.index(r.tap) != 0) {
                    out.add(r.ifname + ": left the record of dead pid " + r.pid + ": " + r.tap
                            + " still exists (remove it, or close the port that uses it)");
                    continue;
                }
                try {
                    restore(nl, r);
                } catch (RuntimeException e) {
                    out.add(r.ifname + ": restoring what dead pid " + r.pid + " moved failed, record kept: " + e.getMessage());
                    continue;
                }
                out.add(r.ifname + ": restored " + r.addrs.size() + " address(es) and " + r.routes.size()
                        + " route(s) moved by dead pid " + r.pid);
            }
        }
        return out;
    }

    /**
     * What {@code bin/jnetmap info [--gc]} prints about records: with {@code gc}, what {@link #gc()} did,
     * then every record left (stale ones marked).
     */
    public static List<String> report(boolean gc) {
        List<String> out = new ArrayList<>();
        if (gc) {
            gc().forEach(l -> out.add("  gc: " + l));
        }
        List<Status> left = records();
        out.add("host-stack interfaces moved to TAPs (" + directory() + "):" + (left.isEmpty() ? " none" : ""));
        left.forEach(r -> out.add("  " + r));
        return out;
    }

    // ----------------------------------------------------------------------------------------------

    private static boolean alive(Rec r) {
        return startTime(r.pid) == r.start;
    }

    /** Field 22 of /proc/PID/stat (start time in clock ticks since boot), or -1 if there is no such process. */
    private static long startTime(long pid) {
        try {
            String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[19]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** This thread's network namespace inode number, e.g. {@code 4026531840}. */
    private static String netnsInode() {
        String s = NetNamespace.current();
        return s.substring(s.indexOf('[') + 1, s.indexOf(']'));
    }

    /** True if a named namespace (/run/netns) or a live process still holds network namespace {@code inode}. */
    private static boolean namespaceExists(String inode) {
        String link = "net:[" + inode + "]";
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) procs::iterator) {
                try {
                    if (link.equals(Files.readSymbolicLink(p.resolve("ns/net")).toString())) {
                        return true;
                    }
                } catch (IOException | UnsupportedOperationException e) {
                    // not a process, or gone meanwhile
                }
            }
        } catch (IOException e) {
            return true;
        }
        Path run = Path.of("/run/netns");
        if (Files.isDirectory(run)) {
            try (var named = Files.list(run)) {
                for (Path p : (Iterable<Path>) named::iterator) {
                    try {
                        if (inode.equals(String.valueOf(Files.getAttribute(p, "unix:ino")))) {
                            return true;
                        }
                    } catch (IOException | RuntimeException e) {
                        // not a namespace mount
                    }
                }
            } catch (IOException e) {
                return true;
            }
        }
        return false;
    }

    private static Path ipv4Conf(String dev, String key) {
        return Path.of("/proc/sys/net/ipv4/conf", dev, key);
    }

    private static String readConf(Path p) {
        try {
            return Files.readString(p).trim();
        } catch (IOException e) {
            return null;
        }
    }

    private static void writeConf(Path p, String value) {
        try {
            Files.writeString(p, value);
        } catch (IOException e) {
            throw new NetmapException("cannot write " + value + " to " + p + ": " + e, e);
        }
    }

    private static String readSysctl(String dev) {
        try {
            return Files.readString(Path.of("/proc/sys/net/ipv6/conf", dev, "disable_ipv6")).trim();
        } catch (IOException e) {
            return null; // no IPv6 in this kernel
        }
    }

    private static void writeSysctl(String dev, String value) {
        try {
            Files.writeString(Path.of("/proc/sys/net/ipv6/conf", dev, "disable_ipv6"), value);
        } catch (IOException e) {
            throw new NetmapException("cannot set net.ipv6.conf." + dev + ".disable_ipv6=" + value + ": " + e, e);
        }
    }

    private static void deleteQuietly(Path f) {
        try {
            Files.deleteIfExists(f);
        } catch (IOException ignored) {
            // gc tries again next time
        }
    }
}
