package io.jnetmap.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A route netlink socket ({@code AF_NETLINK}/{@code NETLINK_ROUTE}, rtnetlink(7)) of the calling
 * thread's network namespace: dumps and acknowledged requests on links, addresses and routes. A
 * message body is the family header ({@code ifinfomsg}, {@code ifaddrmsg}, {@code rtmsg}) followed by
 * its attributes, in host byte order, as the kernel lays them out; {@link Body} builds one and
 * {@link #attrs} reads them. Control-path only: every call allocates.
 */
public final class RtNetlink implements AutoCloseable {
    public static final int NETLINK_ROUTE = 0;

    public static final int NLMSG_ERROR = 2;
    public static final int NLMSG_DONE = 3;
    public static final int NLM_F_REQUEST = 0x1;
    public static final int NLM_F_MULTI = 0x2;
    public static final int NLM_F_ACK = 0x4;
    public static final int NLM_F_DUMP = 0x300;
    public static final int NLM_F_EXCL = 0x200;
    public static final int NLM_F_CREATE = 0x400;

    public static final int RTM_NEWLINK = 16;
    public static final int RTM_GETLINK = 18;
    public static final int RTM_SETLINK = 19;
    public static final int RTM_NEWADDR = 20;
    public static final int RTM_DELADDR = 21;
    public static final int RTM_GETADDR = 22;
    public static final int RTM_NEWROUTE = 24;
    public static final int RTM_DELROUTE = 25;
    public static final int RTM_GETROUTE = 26;

    /** {@code struct ifinfomsg}: family, pad, type (u16), index (s32), flags, change. */
    public static final int IFINFOMSG_SIZE = 16;
    public static final int IFLA_ADDRESS = 1;
    public static final int IFLA_IFNAME = 3;
    public static final int IFLA_MTU = 4;

    /** {@code struct ifaddrmsg}: family, prefixlen, flags, scope (u8 each), index (u32). */
    public static final int IFADDRMSG_SIZE = 8;
    public static final int IFA_ADDRESS = 1;
    public static final int IFA_LOCAL = 2;
    public static final int IFA_LABEL = 3;
    public static final int IFA_BROADCAST = 4;
    public static final int IFA_ANYCAST = 5;
    public static final int IFA_CACHEINFO = 6;
    public static final int IFA_FLAGS = 8;
    public static final int IFA_RT_PRIORITY = 9;
    public static final int IFA_PROTO = 11;
    public static final int IFA_F_SECONDARY = 0x01;
    public static final int IFA_F_NODAD = 0x02;

    /** {@code struct rtmsg}: family, dst_len, src_len, tos, table, protocol, scope, type (u8 each), flags (u32). */
    public static final int RTMSG_SIZE = 12;
    public static final int RTA_DST = 1;
    public static final int RTA_SRC = 2;
    public static final int RTA_OIF = 4;
    public static final int RTA_GATEWAY = 5;
    public static final int RTA_PRIORITY = 6;
    public static final int RTA_PREFSRC = 7;
    public static final int RTA_METRICS = 8;
    public static final int RTA_MULTIPATH = 9;
    public static final int RTA_TABLE = 15;
    public static final int RTA_MARK = 16;
    public static final int RTA_VIA = 18;
    public static final int RTA_PREF = 20;
    public static final int RTPROT_KERNEL = 2;
    public static final int RTPROT_RA = 9;
    public static final int RT_TABLE_LOCAL = 255;

    public static final int AF_INET6 = 10;

    private static final int NLMSGHDR_SIZE = 16;
    private static final int RECV_SIZE = 1 << 16;

    private final int fd;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment rx = arena.allocate(RECV_SIZE, 8);
    private final MemorySegment kernel = arena.allocate(12, 4);
    private int seq;

    private RtNetlink(int fd) {
        this.fd = fd;
        kernel.set(JAVA_SHORT, 0, (short) Linux.AF_NETLINK); // sockaddr_nl of the kernel: pid 0, no groups
    }

    /** A socket in the calling thread's network namespace. */
    public static RtNetlink open() {
        return new RtNetlink(Linux.socket(Linux.AF_NETLINK, Linux.SOCK_RAW | Linux.SOCK_CLOEXEC, NETLINK_ROUTE));
    }

    /** One message from the kernel: its type ({@code RTM_NEWADDR} …) and body. */
    public record Message(int type, byte[] body) {
    }

    /** One attribute: its type (without the nested/byte-order bits) and payload. */
    public record Attr(int type, byte[] value) {
        public int asInt() {
            return ByteBuffer.wrap(value).order(ByteOrder.nativeOrder()).getInt();
        }

        public String asString() {
            int n = 0;
            while (n < value.length && value[n] != 0) {
                n++;
            }
            return new String(value, 0, n, StandardCharsets.UTF_8);
        }
    }

    /** Every object of a {@code RTM_GET*} dump whose request body (family header) is {@code header}. */
    public List<Message> dump(int type, byte[] header) {
        int s = send(type, NLM_F_REQUEST | NLM_F_DUMP, header);
        List<Message> out = new ArrayList<>();
        while (true) {
            for (Message m : receive(s)) {
                if (m.type() == NLMSG_DONE) {
                    return out;
                }
                if (m.type() == NLMSG_ERROR) {
                    int err = -ByteBuffer.wrap(m.body()).order(ByteOrder.nativeOrder()).getInt();
                    if (err != 0) {
                        throw new SyscallException("rtnetlink dump " + type, err);
                    }
                    return out;
                }
                out.add(m);
            }
        }
    }

    /** A non-dump {@code RTM_GET*}: the single reply, or the error. */
    public Message get(int type, byte[] body) {
        int s = send(type, NLM_F_REQUEST, body);
        for (Message m : receive(s)) {
            if (m.type() == NLMSG_ERROR) {
                throw new SyscallException("rtnetlink get " + type,
                        -ByteBuffer.wrap(m.body()).order(ByteOrder.nativeOrder()).getInt());
            }
            return m;
        }
        throw new SyscallException("rtnetlink get " + type + ": no reply", Errno.EPROTO);
    }

    /**
     * An acknowledged request ({@code RTM_NEWADDR} …). Returns 0, or the negated errno if it is one of
     * {@code tolerated} (EEXIST for what is already there, ESRCH/EADDRNOTAVAIL for what is already gone);
     * other errors throw.
     */
    public int request(int type, int flags, byte[] body, int... tolerated) {
        int s = send(type, NLM_F_REQUEST | NLM_F_ACK | flags, body);
        while (true) {
            for (Message m : receive(s)) {
                if (m.type() != NLMSG_ERROR) {
                    continue;
                }
                int err = -ByteBuffer.wrap(m.body()).order(ByteOrder.nativeOrder()).getInt();
                if (err == 0) {
                    return 0;
                }
                for (int t : tolerated) {
                    if (t == err) {
                        return -err;
                    }
                }
                throw new SyscallException("rtnetlink request " + type, err);
            }
        }
    }

    private int send(int type, int flags, byte[] body) {
        int s = ++seq;
        int len = NLMSGHDR_SIZE + body.length;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(len, 8);
            m.set(JAVA_INT, 0, len);
            m.set(JAVA_SHORT, 4, (short) type);
            m.set(JAVA_SHORT, 6, (short) flags);
            m.set(JAVA_INT, 8, s);
            MemorySegment.copy(body, 0, m, JAVA_BYTE, NLMSGHDR_SIZE, body.length);
            Linux.sendto(fd, m, len, 0, kernel, 12);
        }
        return s;
    }

    /** The messages of one datagram that answer request {@code s} (others, stale, are skipped). */
    private List<Message> receive(int s) {
        long n = Linux.recv(fd, rx, RECV_SIZE, 0);
        if (n < 0) {
            throw new SyscallException("recvfrom(netlink)", Errno.EAGAIN);
        }
        List<Message> out = new ArrayList<>();
        long off = 0;
        while (off + NLMSGHDR_SIZE <= n) {
            int len = rx.get(JAVA_INT, off);
            if (len < NLMSGHDR_SIZE || off + len > n) {
                break;
            }
            int type = Short.toUnsignedInt(rx.get(JAVA_SHORT, off + 4));
            int mseq = rx.get(JAVA_INT, off + 8);
            if (mseq == s) {
                out.add(new Message(type, rx.asSlice(off + NLMSGHDR_SIZE, len - NLMSGHDR_SIZE).toArray(JAVA_BYTE)));
            }
            off += align(len);
        }
        return out;
    }

    /** The attributes after the first {@code headerSize} bytes of {@code body}. */
    public static List<Attr> attrs(byte[] body, int headerSize) {
        ByteBuffer b = ByteBuffer.wrap(body).order(ByteOrder.nativeOrder());
        List<Attr> out = new ArrayList<>();
        int off = headerSize;
        while (off + 4 <= body.length) {
            int len = Short.toUnsignedInt(b.getShort(off));
            int type = Short.toUnsignedInt(b.getShort(off + 2)) & 0x3fff;
            if (len < 4 || off + len > body.length) {
                break;
            }
            byte[] v = new byte[len - 4];
            System.arraycopy(body, off + 4, v, 0, v.length);
            out.add(new Attr(type, v));
            off += align(len);
        }
        return out;
    }

    /** The first attribute of {@code type}, or null. */
    public static Attr attr(List<Attr> attrs, int type) {
        for (Attr a : attrs) {
            if (a.type() == type) {
                return a;
            }
        }
        return null;
    }

    private static int align(int len) {
        return (len + 3) & ~3;
    }

    /** A message body: a family header, then attributes, each 4-byte aligned. */
    public static final class Body {
        private final ByteBuffer b = ByteBuffer.allocate(4096).order(ByteOrder.nativeOrder());

        public Body(byte[] header) {
            b.put(header);
        }

        public Body attr(int type, byte[] value) {
            int len = 4 + value.length;
            b.putShort((short) len).putShort((short) type).put(value);
            b.position(b.position() + (align(len) - len));
            return this;
        }

        public Body attrInt(int type, int value) {
            return attr(type, ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(value).array());
        }

        public Body attrString(int type, String value) {
            byte[] s = value.getBytes(StandardCharsets.UTF_8);
            byte[] z = new byte[s.length + 1];
            System.arraycopy(s, 0, z, 0, s.length);
            return attr(type, z);
        }

        public byte[] bytes() {
            byte[] out = new byte[b.position()];
            System.arraycopy(b.array(), 0, out, 0, out.length);
            return out;
        }
    }

    /** An {@code ifinfomsg} for interface {@code index}. */
    public static byte[] ifinfomsg(int index) {
        return ByteBuffer.allocate(IFINFOMSG_SIZE).order(ByteOrder.nativeOrder()).putInt(4, index).array();
    }

    @Override
    public void close() {
        Linux.close(fd);
        arena.close();
    }
}
