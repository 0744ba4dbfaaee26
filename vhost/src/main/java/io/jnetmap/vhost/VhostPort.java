package io.jnetmap.vhost;

import io.jnetmap.core.NetmapIf;
import io.jnetmap.core.PortName;
import io.jnetmap.core.Region;
import io.jnetmap.core.Ring;
import io.jnetmap.core.Slot;
import io.jnetmap.core.spi.AbstractPort;
import io.jnetmap.core.spi.Kring;
import io.jnetmap.poll.ForwardingPollable;
import io.jnetmap.poll.Pollable;
import io.jnetmap.sys.Epoll;
import io.jnetmap.sys.EventFd;
import io.jnetmap.sys.Linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.locks.ReentrantLock;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A virtio-net guest as a port ({@code vhost:PATH}): jnetmap is the vhost-user back-end of the guest's
 * device. It listens on the Unix socket PATH ({@code vhost:client:PATH}: connects to it, and again every
 * second while nobody answers), and serves one queue pair straight from guest memory: what the guest
 * transmits arrives on the port's RX ring, what is sent on the port's TX ring lands in the guest's
 * receive buffers. Frames are copied between guest memory and the port's own buffers, so no guest ever
 * sees another port's memory.
 *
 * <p>Threads: a control thread speaks the protocol (it takes the device lock to change what the
 * datapath uses); txsync/rxsync run in the ring users' threads under the same lock, which the control
 * thread holds only while the front-end reconfigures. The port's {@link Pollable} waits on an epoll set
 * of the guest's kick eventfds and the port's own eventfd; guest and port ask each other for
 * notifications only when about to sleep (event index, or {@code VRING_USED_F_NO_NOTIFY}).
 *
 * <p>A guest that breaks the virtio rules is cut off (its connection dropped, its memory unmapped) and
 * counted in {@link VhostStats#violations()}; the port stays open and a restarted guest connects again.
 * Without a guest the port behaves as a NIC with its link down: what is sent is dropped and counted.
 */
public final class VhostPort extends AbstractPort {
    /** Descriptor kind tag: "vhst" read as a little-endian u32. */
    public static final int KIND = 0x74736876;

    private final String path;
    private final boolean client;
    private final Region region;
    private final MemorySegment regionMem;
    private final int bufSize;
    private final ReentrantLock lock = new ReentrantLock();
    private final Epoll epoll = new Epoll(4);
    private final EventFd ctlWake = EventFd.create();
    private final Arena arena = Arena.ofShared();
    private final MemorySegment hdr = arena.allocate(12, 8);
    private final Virtqueue[] vq = {new Virtqueue(VhostUser.RX_QUEUE), new Virtqueue(VhostUser.TX_QUEUE)};
    private final Pollable pollable;
    private final int listenFd;
    private final Thread control;

    // device state (under lock)
    private GuestMemory mem;
    private long features;
    private long protocolFeatures;
    private int hdrLen = 12;
    private boolean mergeable;
    private int mtu;
    private int pendingFrom;

    private volatile boolean closing;
    private volatile boolean hangup;
    private volatile boolean connected;
    private volatile String lastError;

    // counters (under lock, except connects/disconnects: control thread)
    private long rxPackets;
    private long txPackets;
    private long txDropsNoGuest;
    private long txDropsSmallBuffer;
    private long txBad;
    private long rxOversize;
    private long violations;
    private volatile long connects;
    private volatile long disconnects;

    VhostPort(PortName name, NetmapIf nifp, String path, boolean client) {
        super(name, nifp, "vhost-user");
        this.path = path;
        this.client = client;
        this.region = nifp.region();
        this.regionMem = region.memory();
        this.bufSize = region.bufSize();
        this.pendingFrom = txKring(0).hwcur;
        this.pollable = new VhostPollable(super.pollable());
        try {
            epoll.add(eventFd().fd(), Linux.EPOLLIN, -1);
            if (!client) {
                Path p = Path.of(path);
                if (Files.exists(p) && !Files.isDirectory(p) && !Files.isRegularFile(p)) {
                    Files.delete(p); // a socket left by an earlier back-end
                }
                listenFd = VhostUserChannel.listen(path);
            } else {
                listenFd = -1;
            }
        } catch (java.io.IOException e) {
            cleanupEarly();
            throw new io.jnetmap.core.NetmapException("vhost:" + path + ": cannot replace the old socket: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            cleanupEarly();
            throw e;
        }
        this.control = Thread.ofPlatform().daemon().name("vhost-ctl-" + path).start(this::controlLoop);
    }

    private void cleanupEarly() {
        epoll.close();
        ctlWake.close();
        arena.close();
    }

    /** The socket path. */
    public String socketPath() {
        return path;
    }

    /** True while a front-end (QEMU) is connected. */
    public boolean connected() {
        return connected;
    }

    /** True while both virtqueues of the guest are running (the guest's driver is up). */
    public boolean running() {
        lock.lock();
        try {
            return vq[0].started && vq[1].started;
        } finally {
            lock.unlock();
        }
    }

    /** Why the last connection ended or was refused (a protocol error, a guest violation), or null. */
    public String lastError() {
        return lastError;
    }

    public VhostStats stats() {
        lock.lock();
        try {
            return new VhostStats(connects, disconnects, violations, rxPackets, txPackets, txDropsNoGuest,
                    txDropsSmallBuffer, txBad, rxOversize, vq[0].calls + vq[1].calls, features, mtu);
        } finally {
            lock.unlock();
        }
    }

    // ----------------------------------------------------------------------------------------------
    // datapath

    /** The guest's transmit queue into this port's RX ring. */
    @Override
    protected void rxsync(Kring k) {
        k.hwcur = k.rhead;
        lock.lock();
        try {
            Virtqueue q = vq[VhostUser.TX_QUEUE];
            if (!q.started) {
                return;
            }
            Ring ring = k.ring;
            int last = k.prev(k.hwcur);
            int slot = k.hwtail;
            int n = slot == last ? 0 : q.availCount();
            try {
                while (n > 0 && slot != last) {
                    int b = ring.bufIdx(slot);
                    int flags = 0;
                    if (!region.isValidBuf(b)) { // the user owned this slot: never trust its index
                        b = region.allocBuf();
                        if (b == 0) {
                            break;
                        }
                        ring.setBufIdx(slot, b);
                        flags = Slot.NS_BUF_CHANGED;
                    }
                    int len = q.popFrame(regionMem, region.bufOffset(b), bufSize, hdrLen);
                    n--;
                    if (len < 0) {
                        rxOversize++;
                        continue;
                    }
                    ring.setSlot(slot, len, flags);
                    slot = k.next(slot);
                    rxPackets++;
                }
            } finally {
                k.hwtail = slot;
            }
            q.publishUsed();
            q.notifyGuest();
        } catch (GuestViolation | IndexOutOfBoundsException | IllegalArgumentException e) {
            cutOff(e);
        } finally {
            lock.unlock();
        }
    }

    /** This port's TX ring into the guest's receive queue; held (not dropped) while the guest has no room. */
    @Override
    protected void txsync(Kring k) {
        lock.lock();
        try {
            k.hwcur = k.rhead;
            Virtqueue q = vq[VhostUser.RX_QUEUE];
            Ring ring = k.ring;
            if (!q.started) {
                txDropsNoGuest += k.distance(pendingFrom, k.hwcur);
                pendingFrom = k.hwcur;
            } else {
                try {
                    deliverPending(k, q, ring);
                    if (pendingFrom != k.hwcur) {
                        // the guest has no room: ask it to kick when it posts buffers (whoever syncs next, a
                        // sender or the ring's sleeping user, is woken through the kick in the port's epoll),
                        // then look once more in case it posted them just before
                        q.enableNotify();
                        deliverPending(k, q, ring);
                    }
                    q.publishUsed();
                    q.notifyGuest();
                } catch (GuestViolation | IndexOutOfBoundsException | IllegalArgumentException e) {
                    cutOff(e);
                    txDropsNoGuest += k.distance(pendingFrom, k.hwcur);
                    pendingFrom = k.hwcur;
                }
            }
            k.hwtail = k.prev(pendingFrom);
        } finally {
            lock.unlock();
        }
    }

    /** Under lock: delivers TX slots [pendingFrom, hwcur) into the guest until it has no room. */
    private void deliverPending(Kring k, Virtqueue q, Ring ring) {
        while (pendingFrom != k.hwcur) {
            int b = ring.bufIdx(pendingFrom);
            int len = ring.len(pendingFrom);
            if (!region.isValidBuf(b) || len > bufSize) {
                txBad++;
            } else {
                int r = q.deliver(regionMem, region.bufOffset(b), len, hdr, hdrLen, mergeable);
                if (r == 0) {
                    return;
                }
                if (r < 0) {
                    txDropsSmallBuffer++;
                } else {
                    txPackets++;
                }
            }
            pendingFrom = k.next(pendingFrom);
        }
    }

    /** Under lock: the guest broke the rules; stop serving it now, and have the control thread hang up. */
    private void cutOff(RuntimeException e) {
        violations++;
        lastError = "guest cut off: " + e.getMessage();
        System.err.println("vhost:" + path + ": " + lastError);
        vq[0].stop();
        vq[1].stop();
        hangup = true;
        ctlWake.signal();
    }

    @Override
    protected int pollFd() {
        return epoll.fd();
    }

    @Override
    protected int pollFdEvents(int interest) {
        return Pollable.IN;
    }

    @Override
    public Pollable pollable() {
        return pollable;
    }

    /**
     * The port's poll with the guest's side of need-wake-up: before sleeping, ask for a kick on the
     * transmit queue (IN) and, while frames wait for receive buffers, on the receive queue; once awake,
     * withdraw the wish and consume the kicks.
     */
    private final class VhostPollable extends ForwardingPollable {
        VhostPollable(Pollable inner) {
            super(inner);
        }

        @Override
        public int arm(int interest) {
            lock.lock();
            try {
                Virtqueue tx = vq[VhostUser.TX_QUEUE];
                Virtqueue rx = vq[VhostUser.RX_QUEUE];
                if ((interest & IN) != 0 && tx.started) {
                    tx.enableNotify();
                }
                if (rx.started && (pendingFrom != txKring(0).hwcur || (interest & OUT) != 0)) {
                    rx.enableNotify();
                }
            } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
                cutOff(e);
            } finally {
                lock.unlock();
            }
            return inner.arm(interest); // its syncs re-check the rings after the wish is visible
        }

        @Override
        public void disarm() {
            inner.disarm();
            lock.lock();
            try {
                for (Virtqueue q : vq) {
                    if (q.started) {
                        q.disableNotify();
                    }
                    EventFd kick = q.kick;
                    if (kick != null) {
                        kick.drain();
                    }
                }
            } finally {
                lock.unlock();
            }
        }

        @Override
        public String toString() {
            return "pollable of " + name();
        }
    }

    // ----------------------------------------------------------------------------------------------
    // control

    private void controlLoop() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment pfd = a.allocate(16, 8);
            while (!closing) {
                int fd = client ? connectLoop(pfd) : acceptLoop(pfd);
                if (fd < 0) {
                    break;
                }
                VhostUserChannel ch = new VhostUserChannel(fd);
                connected = true;
                connects++;
                try {
                    ch.setTimeouts(5000);
                    serve(ch, pfd);
                } catch (RuntimeException e) {
                    lastError = e.getMessage();
                } finally {
                    lock.lock();
                    try {
                        resetDevice();
                    } finally {
                        lock.unlock();
                    }
                    ch.close();
                    connected = false;
                    disconnects++;
                    eventFd().signal();
                }
            }
        }
    }

    /** Waits for a front-end to connect; -1 when the port closes. */
    private int acceptLoop(MemorySegment pfd) {
        while (!closing) {
            int r = poll2(pfd, listenFd, -1);
            if ((r & 2) != 0) {
                ctlWake.drain();
                hangup = false;
                continue;
            }
            if ((r & 1) != 0) {
                int fd = Linux.accept4(listenFd, Linux.SOCK_CLOEXEC);
                if (fd >= 0) {
                    return fd;
                }
            }
        }
        return -1;
    }

    /** Connects to the front-end's socket, retrying every second; -1 when the port closes. */
    private int connectLoop(MemorySegment pfd) {
        while (!closing) {
            int fd = VhostUserChannel.connect(path);
            if (fd >= 0) {
                return fd;
            }
            if ((poll2(pfd, -1, 1000) & 2) != 0) {
                ctlWake.drain();
                hangup = false;
            }
        }
        return -1;
    }

    /** poll(2) on {@code fd} (if >= 0) and the control wake-up; bit 0: fd ready, bit 1: woken. */
    private int poll2(MemorySegment pfd, int fd, int timeoutMs) {
        pfd.set(JAVA_INT, 0, ctlWake.fd());
        pfd.set(JAVA_SHORT, 4, Linux.POLLIN);
        pfd.set(JAVA_SHORT, 6, (short) 0);
        pfd.set(JAVA_INT, 8, fd);
        pfd.set(JAVA_SHORT, 12, Linux.POLLIN);
        pfd.set(JAVA_SHORT, 14, (short) 0);
        int n = Linux.poll(pfd, fd >= 0 ? 2 : 1, timeoutMs);
        if (n <= 0) {
            return 0;
        }
        int r = 0;
        if (pfd.get(JAVA_SHORT, 6) != 0) {
            r |= 2;
        }
        if (fd >= 0 && pfd.get(JAVA_SHORT, 14) != 0) {
            r |= 1;
        }
        return r;
    }

    private void serve(VhostUserChannel ch, MemorySegment pfd) {
        while (!closing) {
            int r = poll2(pfd, ch.fd, -1);
            if ((r & 2) != 0) {
                ctlWake.drain();
                if (hangup) {
                    hangup = false;
                    return;
                }
                continue;
            }
            if ((r & 1) == 0) {
                continue;
            }
            if (!ch.read()) {
                lastError = "front-end closed the connection";
                return;
            }
            try {
                handle(ch);
            } finally {
                ch.closeFds();
            }
        }
    }

    /** {@code JNETMAP_VHOST_TRACE=1}: every request on stderr (not for production use). */
    private static final boolean TRACE = "1".equals(System.getenv("JNETMAP_VHOST_TRACE"));

    private void handle(VhostUserChannel ch) {
        int req = ch.request();
        int size = ch.size();
        if (TRACE) {
            System.err.println("vhost:" + path + ": " + VhostUser.name(req) + " flags=0x" + Integer.toHexString(ch.flags())
                    + " size=" + size + " fds=" + ch.fdCount + (size >= 8 ? " u64=0x" + Long.toHexString(
                    ch.msg.get(JAVA_LONG_UNALIGNED, VhostUserChannel.HEADER)) : ""));
        }
        boolean ack = (ch.flags() & VhostUser.NEED_REPLY) != 0 && (protocolFeatures & VhostUser.PF_REPLY_ACK) != 0;
        MemorySegment p = ch.msg.asSlice(VhostUserChannel.HEADER, VhostUserChannel.MAX_PAYLOAD);
        long status = 0;
        lock.lock();
        try {
            switch (req) {
                case VhostUser.GET_FEATURES -> {
                    replyU64(ch, req, VhostUser.FEATURES);
                    return;
                }
                case VhostUser.GET_PROTOCOL_FEATURES -> {
                    replyU64(ch, req, VhostUser.PROTOCOL_FEATURES);
                    return;
                }
                case VhostUser.GET_QUEUE_NUM -> {
                    replyU64(ch, req, 1);
                    return;
                }
                case VhostUser.GET_MAX_MEM_SLOTS -> {
                    replyU64(ch, req, GuestMemory.MAX_REGIONS);
                    return;
                }
                case VhostUser.GET_VRING_BASE -> {
                    Virtqueue q = queue(u32(p, size, 0), req);
                    int base = q.stop();
                    closeKick(q);
                    q.kickSet = false;
                    eventFd().signal();
                    ch.msg.set(JAVA_INT, 0, req);
                    ch.msg.set(JAVA_INT, 4, VhostUser.VERSION | VhostUser.REPLY);
                    ch.msg.set(JAVA_INT, 8, 8);
                    p.set(JAVA_INT, 0, q.index);
                    p.set(JAVA_INT, 4, base);
                    ch.write();
                    return;
                }
                case VhostUser.SET_FEATURES -> {
                    long f = u64(p, size);
                    if ((f & ~VhostUser.FEATURES) != 0) {
                        throw new VhostProtocolException("SET_FEATURES 0x" + Long.toHexString(f) + " (offered: 0x"
                                + Long.toHexString(VhostUser.FEATURES) + ")");
                    }
                    features = f;
                    mergeable = (f & VhostUser.F_NET_MRG_RXBUF) != 0;
                    hdrLen = (f & (VhostUser.F_VERSION_1 | VhostUser.F_NET_MRG_RXBUF)) != 0 ? 12 : 10;
                }
                case VhostUser.SET_PROTOCOL_FEATURES -> {
                    long f = u64(p, size);
                    if ((f & ~VhostUser.PROTOCOL_FEATURES) != 0) {
                        throw new VhostProtocolException("SET_PROTOCOL_FEATURES 0x" + Long.toHexString(f) + " (offered: 0x"
                                + Long.toHexString(VhostUser.PROTOCOL_FEATURES) + ")");
                    }
                    protocolFeatures = f;
                }
                case VhostUser.SET_OWNER -> {
                }
                case VhostUser.RESET_OWNER -> resetDevice();
                case VhostUser.SET_MEM_TABLE -> {
                    int n = ch.fdCount;
                    int[] fds = new int[n];
                    for (int i = 0; i < n; i++) {
                        fds[i] = ch.takeFd(i);
                    }
                    ch.fdCount = 0;
                    GuestMemory m = new GuestMemory(p, size, fds, n);
                    GuestMemory old = mem;
                    mem = m;
                    for (Virtqueue q : vq) {
                        if (q.started) {
                            q.start(m, eventIdx()); // same ring, new mapping
                        }
                    }
                    if (old != null) {
                        old.close();
                    }
                    tryStart();
                }
                case VhostUser.SET_VRING_NUM -> {
                    Virtqueue q = queue(u32(p, size, 0), req);
                    q.setNum(u32(p, size, 4));
                }
                case VhostUser.SET_VRING_ADDR -> {
                    if (size < 40) {
                        throw new VhostProtocolException("SET_VRING_ADDR payload of " + size + " bytes (expected: 40)");
                    }
                    Virtqueue q = queue(p.get(JAVA_INT, 0), req);
                    q.descUva = p.get(JAVA_LONG_UNALIGNED, 8);
                    q.usedUva = p.get(JAVA_LONG_UNALIGNED, 16);
                    q.availUva = p.get(JAVA_LONG_UNALIGNED, 24);
                    q.addrSet = true;
                    if (q.started) {
                        q.start(mem, eventIdx());
                    }
                    tryStart();
                }
                case VhostUser.SET_VRING_BASE -> {
                    Virtqueue q = queue(u32(p, size, 0), req);
                    q.base = u32(p, size, 4) & 0xffff;
                }
                case VhostUser.SET_VRING_KICK -> {
                    long v = u64(p, size);
                    Virtqueue q = queue((int) (v & VhostUser.VRING_IDX_MASK), req);
                    closeKick(q);
                    if ((v & VhostUser.VRING_NOFD) == 0) {
                        EventFd kick = adoptFd(ch, req);
                        q.kick = kick;
                        epoll.add(kick.fd(), Linux.EPOLLIN, q.index);
                    }
                    q.kickSet = true;
                    if ((features & VhostUser.F_PROTOCOL_FEATURES) == 0) {
                        q.enabled = true; // without protocol features a ring starts enabled with its kick
                    }
                    tryStart();
                }
                case VhostUser.SET_VRING_CALL -> {
                    long v = u64(p, size);
                    Virtqueue q = queue((int) (v & VhostUser.VRING_IDX_MASK), req);
                    if (q.call != null) {
                        q.call.close();
                        q.call = null;
                    }
                    if ((v & VhostUser.VRING_NOFD) == 0) {
                        q.call = adoptFd(ch, req);
                    }
                }
                case VhostUser.SET_VRING_ERR -> {
                    u64(p, size); // the error eventfd (if any) is closed with the message: nothing to report on it
                }
                case VhostUser.SET_VRING_ENABLE -> {
                    Virtqueue q = queue(u32(p, size, 0), req);
                    q.enabled = u32(p, size, 4) != 0;
                    if (!q.enabled && q.started) {
                        q.stop();
                    }
                    tryStart();
                }
                case VhostUser.NET_SET_MTU -> {
                    long m = u64(p, size);
                    if (m < 68 || m + 18 > bufSize) {
                        throw new VhostProtocolException("NET_SET_MTU " + m + " (expected: 68.." + (bufSize - 18)
                                + ", frames must fit the port's " + bufSize + "-byte buffers)");
                    }
                    mtu = (int) m;
                }
                case VhostUser.SEND_RARP, VhostUser.SET_LOG_BASE, VhostUser.SET_LOG_FD -> {
                    // not offered (no RARP, no dirty log): nothing to do
                }
                default -> throw new VhostProtocolException("unknown " + VhostUser.name(req));
            }
        } catch (VhostProtocolException e) {
            lastError = VhostUser.name(req) + ": " + e.getMessage();
            System.err.println("vhost:" + path + ": " + lastError);
            if (!ack) {
                throw e;
            }
            status = 1;
        } finally {
            lock.unlock();
        }
        if (ack) {
            replyU64(ch, req, status);
        }
    }

    private boolean eventIdx() {
        return (features & VhostUser.F_RING_EVENT_IDX) != 0;
    }

    /** Starts every ring that has all it needs; a ring the table does not hold refuses the request. */
    private void tryStart() {
        for (Virtqueue q : vq) {
            if (!q.started && q.startable(mem)) {
                q.start(mem, eventIdx());
                eventFd().signal();
            }
        }
    }

    private void closeKick(Virtqueue q) {
        EventFd k = q.kick;
        if (k != null) {
            epoll.remove(k.fd());
            k.close();
            q.kick = null;
        }
    }

    /** Under lock: forgets the front-end (disconnect, RESET_OWNER): rings stopped, memory unmapped. */
    private void resetDevice() {
        for (Virtqueue q : vq) {
            q.reset();
            closeKick(q);
            if (q.call != null) {
                q.call.close();
                q.call = null;
            }
        }
        if (mem != null) {
            mem.close();
            mem = null;
        }
        features = 0;
        protocolFeatures = 0;
        mergeable = false;
        hdrLen = 12;
    }

    private EventFd adoptFd(VhostUserChannel ch, int req) {
        if (ch.fdCount < 1) {
            throw new VhostProtocolException(VhostUser.name(req) + " without a descriptor");
        }
        int fd = ch.takeFd(0);
        Linux.fcntl(fd, Linux.F_SETFL, Linux.fcntl(fd, Linux.F_GETFL, 0) | Linux.O_NONBLOCK);
        return EventFd.adopt(fd);
    }

    private Virtqueue queue(int index, int req) {
        if (index < 0 || index >= vq.length) {
            throw new VhostProtocolException(VhostUser.name(req) + ": ring " + index + " (expected: 0 or 1, one queue pair)");
        }
        return vq[index];
    }

    private static long u64(MemorySegment p, int size) {
        if (size < 8) {
            throw new VhostProtocolException("payload of " + size + " bytes (expected: 8)");
        }
        return p.get(JAVA_LONG_UNALIGNED, 0);
    }

    private static int u32(MemorySegment p, int size, int off) {
        if (size < off + 4) {
            throw new VhostProtocolException("payload of " + size + " bytes (expected: >= " + (off + 4) + ")");
        }
        return p.get(JAVA_INT, off);
    }

    private static void replyU64(VhostUserChannel ch, int req, long value) {
        ch.msg.set(JAVA_INT, 0, req);
        ch.msg.set(JAVA_INT, 4, VhostUser.VERSION | VhostUser.REPLY);
        ch.msg.set(JAVA_INT, 8, 8);
        ch.msg.set(JAVA_LONG_UNALIGNED, VhostUserChannel.HEADER, value);
        ch.write();
    }

    @Override
    protected void onClose() {
        closing = true;
        ctlWake.signal();
        try {
            control.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        lock.lock();
        try {
            resetDevice();
        } finally {
            lock.unlock();
        }
        if (listenFd >= 0) {
            Linux.close(listenFd);
            try {
                Files.deleteIfExists(Path.of(path));
            } catch (java.io.IOException ignored) {
                // the socket file is only a name; a stale one is replaced at the next open
            }
        }
        epoll.close();
        ctlWake.close();
        arena.close();
    }

    @Override
    public String toString() {
        return "VhostPort[" + name() + (client ? ", client" : ", listening") + (connected ? ", connected" : "") + "]";
    }
}
