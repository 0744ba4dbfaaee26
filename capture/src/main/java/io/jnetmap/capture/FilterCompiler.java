package io.jnetmap.capture;

import io.jnetmap.capture.Blocks.Cond;
import io.jnetmap.capture.FilterLexer.T;
import io.jnetmap.capture.FilterLexer.Tok;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

import static io.jnetmap.capture.Bpf.*;
import static io.jnetmap.capture.Bpf.Insn.stmt;

/**
 * pcap-filter(7) on Ethernet, compiled to classic BPF the way libpcap 1.10 compiles it. The parser follows
 * libpcap's grammar (and/or of equal precedence, left to right; an address after and/or reuses the last
 * qualifiers: {@code host a or b}, {@code tcp port 80 or 443}) and generates code as it reduces, left to
 * right, so {@code vlan} and {@code mpls} shift the offsets of everything after them as libpcap's do.
 */
public final class FilterCompiler {
    public static final int DEFAULT_SNAPLEN = 262144;

    private static final int ETHERTYPE_IP = 0x800, ETHERTYPE_IPV6 = 0x86dd, ETHERTYPE_ARP = 0x806, ETHERTYPE_RARP = 0x8035,
            ETHERTYPE_MPLS = 0x8847, ETHERMTU = 1500;
    private static final int IPPROTO_TCP = 6, IPPROTO_UDP = 17, IPPROTO_SCTP = 132, IPPROTO_FRAGMENT = 44, PROTO_UNDEF = -1;

    // qualifiers
    private enum Pq { DEFAULT, LINK, IP, ARP, RARP, TCP, UDP, SCTP, ICMP, IGMP, IGRP, PIM, VRRP, CARP, IP6, ICMP6, AH, ESP, UNSUPPORTED }
    private enum Dq { DEFAULT, SRC, DST, OR, AND }
    private enum Aq { DEFAULT, HOST, NET, PORT, PORTRANGE, GATEWAY, PROTO, PROTOCHAIN }

    /** A qualifier set; null stands for libpcap's qerr (no qualifiers to reuse). */
    private record Q(Pq proto, Dq dir, Aq addr, String protoName, int col) {
        Q withProto(Pq p) {
            return new Q(p, dir, addr, protoName, col);
        }
    }

    private final String expr;
    private final List<Tok> toks;
    private int pos;
    // offsets, shifted by vlan and mpls as the expression is read
    private int offLinktype = 12;
    private int offNl = 14;
    private int mplsDepth;
    private int scratch;
    /** Compiling for frames whose outer VLAN tag the kernel holds aside (SKF_AD_VLAN_TAG_PRESENT is 1). */
    private boolean strippedTag;
    /** {@code vlan} terms read so far. */
    private int vlans;

    /** Linux BPF ancillary loads (linux/filter.h): SKF_AD_OFF plus the field's number. */
    static final int SKF_AD_OFF = Bpf.ANCILLARY_BASE, SKF_AD_PKTTYPE = 4, SKF_AD_VLAN_TAG = 44, SKF_AD_VLAN_TAG_PRESENT = 48;
    /** sll_pkttype of a frame the host sent. */
    private static final int PACKET_OUTGOING = 4;

    private FilterCompiler(String expr) {
        this.expr = expr;
        this.toks = FilterLexer.lex(expr);
    }

    /** Compiles {@code expression} (empty: accept everything) with the default snap length. */
    public static Bpf compile(String expression) {
        return compile(expression, DEFAULT_SNAPLEN, true);
    }

    public static Bpf compile(String expression, int snaplen, boolean optimize) {
        FilterCompiler c = new FilterCompiler(expression);
        Bpf b = c.generate(snaplen, optimize);
        if (b == null) {
            throw new FilterSyntaxException(expression, 1, "expression rejects all packets");
        }
        return b;
    }

    /**
     * The program for a live Linux AF_PACKET socket, as libpcap builds it there: the kernel takes the outer
     * VLAN tag off many frames (rx VLAN offload, and always on receive) and keeps it beside the data, so
     * the first {@code vlan} of the expression reads it with the ancillary loads SKF_AD_VLAN_TAG_PRESENT and
     * SKF_AD_VLAN_TAG and shifts no offset when the tag is aside, and tests the frame's bytes as
     * {@link #compile} does when it is not. An expression without {@code vlan} compiles as by {@link #compile}.
     * Not for the JVM paths (the interpreter and bytecode have no ancillary data): they see frames with
     * the tag put back.
     */
    public static Bpf compileLinuxLive(String expression, int snaplen, boolean optimize) {
        FilterCompiler inPacket = new FilterCompiler(expression);
        Bpf normal = inPacket.generate(snaplen, optimize);
        if (inPacket.vlans == 0) {
            if (normal == null) {
                throw new FilterSyntaxException(expression, 1, "expression rejects all packets");
            }
            return normal;
        }
        FilterCompiler aside = new FilterCompiler(expression);
        aside.strippedTag = true;
        Bpf stripped = aside.generate(snaplen, optimize);
        Bpf reject = new Bpf(Insn.stmt(RET | K, 0));
        if (stripped == null && normal == null) {
            throw new FilterSyntaxException(expression, 1, "expression rejects all packets");
        }
        stripped = stripped == null ? reject : stripped;
        normal = normal == null ? reject : normal;
        List<Insn> all = new java.util.ArrayList<>();
        all.add(stmt(LD | B | ABS, SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT));
        all.add(Insn.jump(JMP | JEQ | K, 0, 0, 1)); // no tag aside: over the next branch
        all.add(stmt(JMP | JA, stripped.length()));
        for (int i = 0; i < stripped.length(); i++) all.add(stripped.insn(i));
        for (int i = 0; i < normal.length(); i++) all.add(normal.insn(i));
        if (all.size() > Bpf.MAX_INSNS) {
            throw new FilterSyntaxException(expression, 1, "expression too complex for a live Linux capture: "
                    + all.size() + " instructions (expected: at most " + Bpf.MAX_INSNS + ")");
        }
        return new Bpf(all.toArray(new Insn[0]));
    }

    /** The program, or null if the optimizer found it rejects every packet. */
    private Bpf generate(int snaplen, boolean optimize) {
        Cond cond = program();
        Blocks g = new Blocks(snaplen);
        Blocks.Node root = cond.build(g, g.accept, g.reject);
        if (optimize && protochains == 0) {
            root = g.optimize(root);
            if (root == g.reject) {
                return null;
            }
        }
        return g.linearize(root);
    }

    // ---------------------------------------------------------------- parser

    private Tok peek() {
        return toks.get(pos);
    }

    private Tok peek(int ahead) {
        return toks.get(Math.min(pos + ahead, toks.size() - 1));
    }

    private Tok next() {
        return toks.get(pos++);
    }

    private FilterSyntaxException error(Tok at, String message) {
        return new FilterSyntaxException(expr, at.col(), message);
    }

    private FilterSyntaxException expected(String what) {
        Tok t = peek();
        return error(t, "syntax error: expected " + what + ", found " + t.describe());
    }

    private void expect(String op, String what) {
        if (!peek().is(op)) throw expected(what);
        next();
    }

    private Cond program() {
        if (peek().type() == T.EOF) return Cond.TRUE;
        Cond c = expr();
        if (peek().type() != T.EOF) {
            if (peek().is(")")) throw error(peek(), "syntax error: unbalanced ')'");
            throw expected("'and', 'or' or the end of the expression");
        }
        return c;
    }

    /** The value of a parse: the condition and the qualifiers an abbreviated address after it reuses. */
    private record R(Cond b, Q q, HostSet hs) {
        R(Cond b, Q q) {
            this(b, q, null);
        }
    }

    /**
     * IPv4 host/net tests with the same qualifiers joined by or ({@code host a or b or c}): compiled as one
     * test per protocol with a chain of source addresses then a chain of destinations, the shape libpcap's
     * optimizer gives them (the same packets, far fewer loads).
     */
    private record HostSet(Pq proto, Dq dir, int offNl, int offLinktype, int mplsDepth, List<long[]> entries) {
        boolean joins(HostSet o) {
            return o != null && proto == o.proto && dir == o.dir && offNl == o.offNl && offLinktype == o.offLinktype
                    && mplsDepth == o.mplsDepth;
        }

        HostSet plus(HostSet o) {
            List<long[]> all = new ArrayList<>(entries);
            all.addAll(o.entries);
            return new HostSet(proto, dir, offNl, offLinktype, mplsDepth, all);
        }
    }

    private HostSet pendingHost;

    private R orOf(R left, R right, Tok at) {
        if (left.hs != null && left.hs.joins(right.hs)) {
            HostSet merged = left.hs.plus(right.hs);
            return new R(hostSet(merged, at), right.q, merged);
        }
        return new R(Cond.or(left.b, right.b), right.q);
    }

    private Cond hostSet(HostSet hs, Tok at) {
        int saveNl = offNl, saveLt = offLinktype, saveMpls = mplsDepth;
        offNl = hs.offNl;
        offLinktype = hs.offLinktype;
        mplsDepth = hs.mplsDepth;
        try {
            return switch (hs.proto) {
                case IP -> hostSetOp(hs, ETHERTYPE_IP, 12, 16, at);
                case ARP -> hostSetOp(hs, ETHERTYPE_ARP, 14, 24, at);
                case RARP -> hostSetOp(hs, ETHERTYPE_RARP, 14, 24, at);
                // libpcap's gen_host: no ARP/RARP alternatives inside MPLS (its linktype there knows only IPv4/IPv6)
                default -> mplsDepth > 0 ? hostSetOp(hs, ETHERTYPE_IP, 12, 16, at)
                        : Cond.or(Cond.or(hostSetOp(hs, ETHERTYPE_IP, 12, 16, at), hostSetOp(hs, ETHERTYPE_ARP, 14, 24, at)),
                                hostSetOp(hs, ETHERTYPE_RARP, 14, 24, at));
            };
        } finally {
            offNl = saveNl;
            offLinktype = saveLt;
            mplsDepth = saveMpls;
        }
    }

    private Cond hostSetOp(HostSet hs, int type, int srcOff, int dstOff, Tok at) {
        Cond src = Cond.FALSE, dst = Cond.FALSE;
        for (long[] e : hs.entries) {
            src = Cond.or(src, mcmp(offNl + srcOff, W, (int) e[0], (int) e[1]));
            dst = Cond.or(dst, mcmp(offNl + dstOff, W, (int) e[0], (int) e[1]));
        }
        return Cond.and(linktype(type, at), dirop(hs.dir, src, dst));
    }

    /** Notes an IPv4 host test the caller may join with the next one (see {@link HostSet}). */
    private void noteHost(long v, long mask, Q q) {
        if (q.dir != Dq.AND && (q.proto == Pq.DEFAULT || q.proto == Pq.IP || q.proto == Pq.ARP || q.proto == Pq.RARP)) {
            pendingHost = new HostSet(q.proto, q.dir, offNl, offLinktype, mplsDepth, List.of(new long[] {v, mask}));
        }
    }

    private R hostR(Cond b, Q q) {
        HostSet hs = pendingHost;
        pendingHost = null;
        return new R(b, q, hs);
    }

    private Cond expr() {
        R left = term(null);
        Cond b = left.b;
        Q q = left.q;
        R acc = left;
        while (peek().is("and") || peek().is("or")) {
            Tok op = next();
            boolean and = op.text().equals("and");
            R right = startsId() ? id(q) : term(q);
            acc = and ? new R(Cond.and(acc.b, right.b), right.q) : orOf(acc, right, op);
            b = acc.b;
            q = right.q;
        }
        return b;
    }

    /** Whether an address (libpcap's "id") comes next, rather than a term. */
    private boolean startsId() {
        int i = 0;
        while (peek(i).is("not")) i++;
        Tok t = peek(i);
        return switch (t.type()) {
            case ID, HID, HID6, EID -> true;
            case NUM -> !arithFollows(peek(i + 1));
            case OP -> t.is("(") && parenPidFollows(pos + i);
            default -> false;
        };
    }

    private static boolean arithFollows(Tok t) {
        return t.type() == T.OP && !t.is("(") && !t.is(")");
    }

    private boolean parenPidFollows(int at) {
        int save = pos;
        pos = at;
        try {
            next();
            pidSkip();
            return peek().is(")");
        } catch (FilterSyntaxException e) {
            return false;
        } finally {
            pos = save;
        }
    }

    /** Recognizes a pid without generating code: ids joined by and/or. */
    private void pidSkip() {
        while (true) {
            while (peek().is("not")) next();
            Tok t = peek();
            if (t.is("(")) {
                next();
                pidSkip();
                expect(")", "')'");
            } else if (t.type() == T.ID || t.type() == T.HID || t.type() == T.HID6 || t.type() == T.EID || t.type() == T.NUM) {
                next();
                if (peek().is("/") || peek().is("mask")) {
                    next();
                    next();
                }
                if (t.type() == T.NUM && arithFollows(peek())) throw expected("an address");
            } else {
                throw expected("an address");
            }
            if (peek().is("and") || peek().is("or")) {
                next();
            } else {
                return;
            }
        }
    }

    private R term(Q inherited) {
        if (peek().is("not")) {
            next();
            R r = term(inherited);
            return new R(Cond.not(r.b), r.q);
        }
        return rterm(inherited);
    }

    private R rterm(Q inherited) {
        Tok t = peek();
        if (t.is("(")) {
            int save = pos;
            int saveScratch = scratch;
            try {
                return new R(relation(), null);
            } catch (FilterSyntaxException e) {
                pos = save;
                scratch = saveScratch;
            }
            next();
            Cond b = expr();
            expect(")", "')' or 'and'/'or'");
            return new R(b, inherited);
        }
        if (t.type() == T.NUM || t.is("len") || t.is("-")) {
            return new R(relation(), null);
        }
        if (t.type() == T.KW) {
            Pq p = pqual(t.text());
            if (p != null) {
                Tok after = peek(1);
                if (after.is("[")) return new R(relation(), null);
                next();
                if (after.is("broadcast") || after.is("multicast")) {
                    next();
                    return new R(after.is("broadcast") ? broadcast(p, t) : multicast(p, t), null);
                }
                if (isDqual(after) || isAqual(after) || after.is("proto") || after.is("protochain")) {
                    return head(p, t);
                }
                return new R(protoAbbrev(p, t), null);
            }
            if (isDqual(t) || isAqual(t) || t.is("proto") || t.is("protochain")) {
                return head(Pq.DEFAULT, null);
            }
            if (t.is("broadcast") || t.is("multicast")) {
                next();
                return new R(t.is("broadcast") ? broadcast(Pq.DEFAULT, t) : multicast(Pq.DEFAULT, t), null);
            }
            return new R(other(), null);
        }
        if (t.type() == T.EOF) throw expected("a primitive");
        throw error(t, "syntax error: " + t.describe() + " needs a qualifier such as 'host', 'net' or 'port' before it");
    }

    private static boolean isDqual(Tok t) {
        return t.is("src") || t.is("dst") || t.is("address1") || t.is("address2") || t.is("address3") || t.is("address4")
                || t.is("ra") || t.is("ta");
    }

    private static boolean isAqual(Tok t) {
        return t.is("host") || t.is("net") || t.is("port") || t.is("portrange") || t.is("gateway");
    }

    private static Pq pqual(String kw) {
        return switch (kw) {
            case "ether", "fddi", "tr", "wlan" -> Pq.LINK;
            case "ip" -> Pq.IP;
            case "arp" -> Pq.ARP;
            case "rarp" -> Pq.RARP;
            case "tcp" -> Pq.TCP;
            case "udp" -> Pq.UDP;
            case "sctp" -> Pq.SCTP;
            case "icmp" -> Pq.ICMP;
            case "igmp" -> Pq.IGMP;
            case "igrp" -> Pq.IGRP;
            case "pim" -> Pq.PIM;
            case "vrrp" -> Pq.VRRP;
            case "carp" -> Pq.CARP;
            case "ip6" -> Pq.IP6;
            case "icmp6" -> Pq.ICMP6;
            case "ah" -> Pq.AH;
            case "esp" -> Pq.ESP;
            case "radio", "atalk", "aarp", "decnet", "lat", "sca", "moprc", "mopdl", "iso", "esis", "isis", "l1", "l2", "iih",
                 "lsp", "snp", "csnp", "psnp", "clnp", "stp", "ipx", "netbeui" -> Pq.UNSUPPORTED;
            default -> null;
        };
    }

    private R head(Pq p, Tok pTok) {
        int col = pTok != null ? pTok.col() : peek().col();
        String pname = pTok != null ? pTok.text() : null;
        Dq d = Dq.DEFAULT;
        Aq a = Aq.DEFAULT;
        Tok t = peek();
        if (t.is("src") || t.is("dst")) {
            next();
            d = t.is("src") ? Dq.SRC : Dq.DST;
            Tok op = peek();
            if ((op.is("or") || op.is("and")) && (peek(1).is("dst") && d == Dq.SRC || peek(1).is("src") && d == Dq.DST)) {
                next();
                next();
                d = op.is("or") ? Dq.OR : Dq.AND;
            }
        } else if (isDqual(t)) {
            throw error(t, "'" + t.text() + "' applies to 802.11 only (not supported on Ethernet)");
        }
        t = peek();
        if (isAqual(t)) {
            next();
            a = switch (t.text()) {
                case "host" -> Aq.HOST;
                case "net" -> Aq.NET;
                case "port" -> Aq.PORT;
                case "portrange" -> Aq.PORTRANGE;
                default -> Aq.GATEWAY;
            };
        } else if (t.is("proto") || t.is("protochain")) {
            if (d != Dq.DEFAULT) throw expected("'host', 'net', 'port' or an address");
            next();
            a = t.is("proto") ? Aq.PROTO : Aq.PROTOCHAIN;
        }
        Q q = new Q(p, d, a, pname, col);
        return id(q);
    }

    /** libpcap's id: an address, a number, not id, or a parenthesized and/or of ids, all with the qualifiers q. */
    private R id(Q q) {
        Tok t = peek();
        if (t.is("not")) {
            next();
            R r = id(q);
            return new R(Cond.not(r.b), r.q);
        }
        if (t.is("(")) {
            next();
            R acc = id(q);
            while (peek().is("and") || peek().is("or")) {
                Tok op = next();
                boolean and = op.text().equals("and");
                R right = id(q);
                acc = and ? new R(Cond.and(acc.b, right.b), q) : orOf(acc, right, op);
            }
            expect(")", "')' or 'and'/'or' and an address");
            return new R(acc.b, q, acc.hs);
        }
        if (q == null) {
            throw error(t, "syntax error in filter expression: " + t.describe() + " has no qualifier to reuse (write e.g. 'host " + t.text() + "')");
        }
        switch (t.type()) {
            case NUM -> {
                next();
                pendingHost = null;
                return hostR(ncode(null, t.num(), q, t), q);
            }
            case HID -> {
                next();
                if (peek().is("/")) {
                    next();
                    Tok len = next();
                    if (len.type() != T.NUM) throw error(len, "syntax error: expected a mask length after '/', found " + len.describe());
                    pendingHost = null;
                    return hostR(mcode4(t, atoin(t), len.num(), -1, q), q);
                }
                if (peek().is("mask")) {
                    next();
                    Tok m = next();
                    if (m.type() != T.HID) throw error(m, "syntax error: expected a dotted mask after 'mask', found " + m.describe());
                    long[] mv = atoin(m);
                    if (mv[1] != 32) throw error(m, "invalid netmask " + m.text());
                    pendingHost = null;
                    return hostR(mcode4(t, atoin(t), -1, mv[0], q), q);
                }
                pendingHost = null;
                return hostR(ncode(t, 0, q, t), q);
            }
            case HID6 -> {
                next();
                int len = 128;
                if (peek().is("/")) {
                    next();
                    Tok l = next();
                    if (l.type() != T.NUM) throw error(l, "syntax error: expected a mask length after '/', found " + l.describe());
                    if (l.num() > 128) throw error(l, "mask length must be <= 128");
                    len = (int) l.num();
                    return new R(mcode6(t, len, true, q), q);
                }
                return new R(mcode6(t, len, false, q), q);
            }
            case EID -> {
                next();
                if ((q.addr == Aq.HOST || q.addr == Aq.DEFAULT) && q.proto == Pq.LINK) {
                    return new R(ehostop(mac(t), q.dir), q);
                }
                throw error(t, "ethernet address used in non-ether expression");
            }
            case ID -> {
                next();
                return new R(scode(t, q), q);
            }
            default -> throw expected("an address, a number or a name");
        }
    }

    private Cond other() {
        Tok t = next();
        switch (t.text()) {
            case "less", "greater" -> {
                Tok n = next();
                if (n.type() != T.NUM) throw error(n, "syntax error: expected a number after '" + t.text() + "', found " + n.describe());
                List<Insn> s = List.of(stmt(LD | W | LEN, 0));
                return t.is("less") ? Cond.not(Cond.test(s, JMP | JGT | K, (int) n.num())) : Cond.test(s, JMP | JGE | K, (int) n.num());
            }
            case "byte" -> {
                Tok idx = next();
                if (idx.type() != T.NUM) throw error(idx, "syntax error: expected a byte offset after 'byte', found " + idx.describe());
                Tok op = next();
                Tok v = next();
                if (v.type() != T.NUM) throw error(v, "syntax error: expected a number, found " + v.describe());
                List<Insn> ld = List.of(stmt(LD | B | ABS, (int) idx.num()));
                int val = (int) v.num();
                return switch (op.text()) {
                    case "=" -> Cond.test(ld, JMP | JEQ | K, val);
                    case "<" -> Cond.not(Cond.test(ld, JMP | JGE | K, val));
                    case ">" -> Cond.test(ld, JMP | JGT | K, val);
                    // libpcap 1.10 forgets the load for & and |: they test whatever A holds; so do we
                    case "&" -> Cond.not(Cond.opaque(List.of(stmt(ALU | AND | K, val)), JMP | JEQ | K, 0));
                    case "|" -> Cond.not(Cond.opaque(List.of(stmt(ALU | OR | K, val)), JMP | JEQ | K, 0));
                    default -> throw error(op, "syntax error: expected one of = < > & | after 'byte N', found " + op.describe());
                };
            }
            case "vlan" -> {
                Long id = optionalNumber();
                return vlan(t, id);
            }
            case "mpls" -> {
                Long label = optionalNumber();
                return mpls(t, label);
            }
            case "inbound", "outbound" -> {
                // as libpcap on Linux: the socket's packet type, PACKET_OUTGOING for what the host sent
                Cond out = cmp(SKF_AD_OFF + SKF_AD_PKTTYPE, H, PACKET_OUTGOING);
                return t.text().equals("outbound") ? out : Cond.not(out);
            }
            case "ifindex" -> throw error(t, "'ifindex' is not supported (it needs packet metadata a file does not carry)");
            default -> {
                if (t.type() == T.KW) {
                    throw error(t, "'" + t.text() + "' is not supported on Ethernet by jnetmap");
                }
                throw error(t, "syntax error: unexpected " + t.describe());
            }
        }
    }

    private Long optionalNumber() {
        if (peek().type() == T.NUM && !arithFollows(peek(1))) return next().num();
        return null;
    }

    // ---------------------------------------------------------------- arithmetic

    /** An arithmetic value: statements leaving it in A, the conditions under which its loads mean anything. */
    private record Arth(List<Insn> code, Cond guard, Long constant) {
        static Arth constant(long v) {
            return new Arth(List.of(stmt(LD | IMM, (int) v)), Cond.TRUE, v & 0xffffffffL);
        }
    }

    private Cond relation() {
        scratch = 0;
        Arth a = arth(0);
        Tok op = peek();
        String o = op.type() == T.OP ? op.text() : "";
        if (!(o.equals(">") || o.equals(">=") || o.equals("=") || o.equals("!=") || o.equals("<") || o.equals("<="))) {
            throw expected("a comparison (= != < <= > >=)");
        }
        next();
        Arth b = arth(0);
        Cond guard = Cond.and(a.guard, b.guard);
        if (a.constant != null && b.constant != null) {
            long x = a.constant, y = b.constant;
            boolean r = switch (o) {
                case ">" -> x > y;
                case ">=" -> x >= y;
                case "=" -> x == y;
                case "!=" -> x != y;
                case "<" -> x < y;
                default -> x <= y;
            };
            return Cond.and(guard, r ? Cond.TRUE : Cond.FALSE);
        }
        int jop = switch (o) {
            case ">", "<=" -> JGT;
            case ">=", "<" -> JGE;
            default -> JEQ;
        };
        boolean negate = o.equals("!=") || o.equals("<") || o.equals("<=");
        Cond test;
        if (b.constant != null) {
            List<Insn> code = a.code;
            int k = (int) (long) b.constant;
            int jcode = JMP | jop | K;
            Insn last = code.get(code.size() - 1);
            if (jop == JEQ && k == 0 && last.code() == (ALU | AND | K)) {
                // (A & m) == 0 is "not jset m"
                code = code.subList(0, code.size() - 1);
                jcode = JMP | JSET | K;
                k = last.k();
                negate = !negate;
            }
            test = Cond.test(code, jcode, k);
        } else {
            int cell = cell(op);
            List<Insn> code = new ArrayList<>(b.code);
            code.add(stmt(ST, cell));
            code.addAll(a.code);
            code.add(stmt(LDX | MEM, cell));
            test = Cond.test(code, JMP | jop | X, 0);
        }
        if (negate) test = Cond.not(test);
        return Cond.and(guard, test);
    }

    private int cell(Tok at) {
        if (scratch >= MEMWORDS) throw error(at, "expression too complex (more than " + MEMWORDS + " intermediate values)");
        return scratch++;
    }

    private static int prec(Tok t) {
        if (t.type() != T.OP) return -1;
        return switch (t.text()) {
            case "|" -> 1;
            case "^" -> 2;
            case "&" -> 3;
            case "<<", ">>" -> 4;
            case "+", "-" -> 5;
            case "*", "/", "%" -> 6;
            default -> -1;
        };
    }

    private Arth arth(int minPrec) {
        Arth left = unary();
        while (true) {
            Tok op = peek();
            int p = prec(op);
            if (p < 0 || p < minPrec || p == 0) return left;
            next();
            Arth right = arth(p + 1);
            left = binary(op, left, right);
        }
    }

    private Arth unary() {
        Tok t = peek();
        if (t.is("-")) {
            next();
            Arth a = unary();
            if (a.constant != null) return Arth.constant(-a.constant);
            List<Insn> code = new ArrayList<>(a.code);
            code.add(stmt(ALU | NEG, 0));
            return new Arth(code, a.guard, null);
        }
        if (t.type() == T.NUM) {
            next();
            return Arth.constant(t.num());
        }
        if (t.is("len")) {
            next();
            return new Arth(List.of(stmt(LD | W | LEN, 0)), Cond.TRUE, null);
        }
        if (t.is("(")) {
            next();
            Arth a = arth(0);
            expect(")", "')'");
            return a;
        }
        if (t.type() == T.KW && pqual(t.text()) != null && peek(1).is("[")) {
            next();
            next();
            Arth index = arth(0);
            int size = 1;
            if (peek().is(":")) {
                next();
                Tok s = next();
                if (s.type() != T.NUM) throw error(s, "syntax error: expected a size (1, 2 or 4), found " + s.describe());
                if (s.num() != 1 && s.num() != 2 && s.num() != 4) throw error(s, "data size must be 1, 2, or 4");
                size = (int) s.num();
            }
            expect("]", "']'");
            return load(t, index, size);
        }
        throw expected("a number, 'len', '(' or a protocol accessor such as ip[...]");
    }

    private Arth binary(Tok op, Arth a, Arth b) {
        int aluop = switch (op.text()) {
            case "+" -> ADD;
            case "-" -> SUB;
            case "*" -> MUL;
            case "/" -> DIV;
            case "%" -> MOD;
            case "&" -> AND;
            case "|" -> OR;
            case "^" -> XOR;
            case "<<" -> LSH;
            default -> RSH;
        };
        if ((aluop == DIV || aluop == MOD) && b.constant != null && b.constant == 0) {
            throw error(op, aluop == DIV ? "division by zero" : "modulus by zero");
        }
        if (a.constant != null && b.constant != null) {
            int x = (int) (long) a.constant, y = (int) (long) b.constant;
            int r = switch (aluop) {
                case ADD -> x + y;
                case SUB -> x - y;
                case MUL -> x * y;
                case DIV -> Integer.divideUnsigned(x, y);
                case MOD -> Integer.remainderUnsigned(x, y);
                case AND -> x & y;
                case OR -> x | y;
                case XOR -> x ^ y;
                case LSH -> Integer.compareUnsigned(y, 32) < 0 ? x << y : 0;
                default -> Integer.compareUnsigned(y, 32) < 0 ? x >>> y : 0;
            };
            return Arth.constant(r & 0xffffffffL);
        }
        Cond guard = Cond.and(a.guard, b.guard);
        List<Insn> code;
        if (b.constant != null) {
            code = new ArrayList<>(a.code);
            code.add(stmt(ALU | aluop | K, (int) (long) b.constant));
        } else {
            int cell = cell(op);
            code = new ArrayList<>(b.code);
            code.add(stmt(ST, cell));
            code.addAll(a.code);
            code.add(stmt(LDX | MEM, cell));
            code.add(stmt(ALU | aluop | X, 0));
        }
        return new Arth(code, guard, null);
    }

    private Arth load(Tok proto, Arth index, int size) {
        int sz = size == 1 ? B : size == 2 ? H : W;
        Pq p = pqual(proto.text());
        Cond guard;
        int base;
        boolean transport = false;
        switch (p) {
            case LINK -> {
                guard = Cond.TRUE;
                base = 0;
            }
            case IP, ARP, RARP, IP6 -> {
                guard = protoAbbrev(p, proto);
                base = offNl;
            }
            case ICMP6 -> {
                guard = Cond.and(linktype(ETHERTYPE_IPV6, proto), cmp(offNl + 6, B, 58));
                base = offNl + 40;
            }
            case TCP, UDP, SCTP, ICMP, IGMP, IGRP, PIM, VRRP, CARP -> {
                // libpcap ands the IPv4 linktype after the protocol; its optimizer leaves this, IPv4 only
                int v = switch (p) {
                    case TCP -> IPPROTO_TCP;
                    case UDP -> IPPROTO_UDP;
                    case SCTP -> IPPROTO_SCTP;
                    case ICMP -> 1;
                    case IGMP -> 2;
                    case IGRP -> 9;
                    case PIM -> 103;
                    default -> 112;
                };
                guard = Cond.and(ipProto(v, proto), ipfrag());
                base = offNl;
                transport = true;
            }
            default -> throw error(proto, "'" + proto.text() + "[...]' is not supported");
        }
        guard = Cond.and(index.guard, guard);
        List<Insn> code = new ArrayList<>();
        if (index.constant != null) {
            int k = (int) (long) index.constant;
            if (transport) {
                code.add(stmt(LDX | B | MSH, offNl));
                code.add(stmt(LD | sz | IND, base + k));
            } else {
                code.add(stmt(LD | sz | ABS, base + k));
            }
        } else {
            code.addAll(index.code);
            if (transport) {
                int cell = cell(proto);
                code.add(stmt(ST, cell));
                code.add(stmt(LDX | B | MSH, offNl));
                code.add(stmt(LD | MEM, cell));
                code.add(stmt(ALU | ADD | X, 0));
            }
            code.add(stmt(MISC | TAX, 0));
            code.add(stmt(LD | sz | IND, base));
        }
        return new Arth(code, guard, null);
    }

    // ---------------------------------------------------------------- primitives

    private static Cond cmp(int off, int size, int v) {
        return Cond.test(List.of(stmt(LD | size | ABS, off)), JMP | JEQ | K, v);
    }

    private static Cond mcmp(int off, int size, int v, int mask) {
        if (mask == 0 && v == 0) return Cond.TRUE; // libpcap's optimizer folds (A & 0) == 0
        if (mask == -1 || size == B && mask == 0xff || size == H && mask == 0xffff) return cmp(off, size, v);
        return Cond.test(List.of(stmt(LD | size | ABS, off), stmt(ALU | AND | K, mask)), JMP | JEQ | K, v);
    }

    private Cond linktype(int type, Tok at) {
        if (mplsDepth > 0) {
            int version = switch (type) {
                case ETHERTYPE_IP -> 0x40;
                case ETHERTYPE_IPV6 -> 0x60;
                default -> throw error(at, "unsupported protocol over mpls");
            };
            return Cond.and(mcmp(offNl - 2, B, 1, 1), mcmp(offNl, B, version, 0xf0));
        }
        if (type <= ETHERMTU) {
            Cond notLength = Cond.not(Cond.test(List.of(stmt(LD | H | ABS, offLinktype)), JMP | JGT | K, ETHERMTU));
            if (type == 0x06 || type == 0xf0 || type == 0xfe) {
                return Cond.and(notLength, cmp(offNl, H, type << 8 | type));
            }
            return Cond.and(notLength, cmp(offNl, B, type));
        }
        return cmp(offLinktype, H, type);
    }

    private Cond ipProto(int v, Tok at) {
        return Cond.and(linktype(ETHERTYPE_IP, at), cmp(offNl + 9, B, v));
    }

    private Cond ip6Proto(int v, Tok at) {
        Cond direct = cmp(offNl + 6, B, v);
        Cond frag = Cond.and(cmp(offNl + 6, B, IPPROTO_FRAGMENT), cmp(offNl + 40, B, v));
        return Cond.and(linktype(ETHERTYPE_IPV6, at), Cond.or(direct, frag));
    }

    private Cond proto(int v, Pq p, Tok at) {
        return switch (p) {
            case DEFAULT -> Cond.or(ipProto(v, at), ip6Proto(v, at));
            case IP -> ipProto(v, at);
            case IP6 -> ip6Proto(v, at);
            case LINK -> linktype(v, at);
            default -> throw error(at, "'" + p.name().toLowerCase() + " proto' is bogus");
        };
    }

    private static final int IPPROTO_HOPOPTS = 0, IPPROTO_ROUTING = 43, IPPROTO_AH = 51, IPPROTO_NONE = 59, IPPROTO_DSTOPTS = 60;

    /**
     * libpcap's gen_protochain: the header chain walked from the IP header to the first header that is
     * {@code v}, "no next header", or neither an IPv6 extension header (hop-by-hop, destination options,
     * routing, fragment) nor AH; true if that one is {@code v}. One block whose statements are the loop
     * (a backward {@code ja}), the scratch cell M[0] and X its own, then {@code jeq #v}. As in libpcap, the
     * AH step sets X to the AH header's length alone (not added to where it is), and the whole program is
     * then left unoptimized (libpcap's optimizer needs an acyclic program and turns itself off): tcpdump
     * runs exactly that program, and so the same packets match.
     */
    private Cond protochain(int v, Pq p, Tok at) {
        if (p == Pq.DEFAULT) return Cond.or(protochain(v, Pq.IP, at), protochain(v, Pq.IP6, at));
        if (p != Pq.IP && p != Pq.IP6) throw error(at, "bad protocol applied for 'protochain'");
        protochains++;
        final int reg = 0;
        boolean v6 = p == Pq.IP6;
        List<Insn> s = new ArrayList<>();
        if (v6) {
            s.add(stmt(LD | B | ABS, offNl + 6)); // A = next header
            s.add(stmt(LDX | IMM, 40)); // X = the IPv6 header's length
        } else {
            s.add(stmt(LD | B | ABS, offNl + 9)); // A = protocol
            s.add(stmt(LDX | B | MSH, offNl)); // X = the IPv4 header's length
        }
        // the jumps to "end" and "ahcheck" are filled in once their places are known
        int again = s.size();
        s.add(null); // jeq #v, end
        s.add(null); // jeq #none, end
        int v6start = s.size(), fragAt = -1;
        if (v6) {
            for (int h : new int[] {IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING, IPPROTO_FRAGMENT}) {
                s.add(stmt(JMP | JEQ | K, h)); // to the extension-header step
            }
            fragAt = s.size() - 1;
            int advance = s.size();
            for (int j = v6start; j < advance; j++) {
                Insn h = s.get(j);
                s.set(j, Insn.jump(JMP | JEQ | K, h.k(), advance - j - 1, 0)); // jf: the next test (fragment's: below)
            }
            s.add(stmt(LD | B | IND, offNl)); // A = this header's next header
            s.add(stmt(ST, reg));
            s.add(stmt(LD | B | IND, offNl + 1)); // X += (length + 1) * 8
            s.add(stmt(ALU | ADD | K, 1));
            s.add(stmt(ALU | MUL | K, 8));
            s.add(stmt(ALU | ADD | X, 0));
            s.add(stmt(MISC | TAX, 0));
            s.add(stmt(LD | MEM, reg));
            s.add(stmt(JMP | JA, again - s.size() - 1));
        } else {
            s.add(stmt(ALU | ADD | K, 0)); // nop, as libpcap's
        }
        int ahcheck = s.size();
        if (fragAt >= 0) s.set(fragAt, Insn.jump(JMP | JEQ | K, IPPROTO_FRAGMENT, s.get(fragAt).jt(), ahcheck - fragAt - 1));
        s.add(null); // jeq #ah, next, end
        s.add(stmt(MISC | TXA, 0));
        s.add(stmt(LD | B | IND, offNl)); // A = AH's next header
        s.add(stmt(ST, reg));
        s.add(stmt(MISC | TXA, 0));
        s.add(stmt(ALU | ADD | K, 1));
        s.add(stmt(MISC | TAX, 0));
        s.add(stmt(LD | B | IND, offNl)); // X = (AH length + 2) * 4, libpcap's step
        s.add(stmt(ALU | ADD | K, 2));
        s.add(stmt(ALU | MUL | K, 4));
        s.add(stmt(MISC | TAX, 0));
        s.add(stmt(LD | MEM, reg));
        s.add(stmt(JMP | JA, again - s.size() - 1));
        int end = s.size();
        s.add(stmt(ALU | ADD | K, 0)); // end: nop
        s.set(again, Insn.jump(JMP | JEQ | K, v, end - again - 1, 0));
        s.set(again + 1, Insn.jump(JMP | JEQ | K, IPPROTO_NONE, end - again - 2, v6 ? 0 : ahcheck - 1 - (again + 1) - 1));
        s.set(ahcheck, Insn.jump(JMP | JEQ | K, IPPROTO_AH, 0, end - ahcheck - 1));
        return Cond.and(linktype(v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IP, at), Cond.test(s, JMP | JEQ | K, v));
    }

    /** protochain terms read so far: a program with one is not optimized (libpcap's no_optimize). */
    private int protochains;

    private Cond protoAbbrev(Pq p, Tok at) {
        return switch (p) {
            case IP -> linktype(ETHERTYPE_IP, at);
            case IP6 -> linktype(ETHERTYPE_IPV6, at);
            case ARP -> linktype(ETHERTYPE_ARP, at);
            case RARP -> linktype(ETHERTYPE_RARP, at);
            case TCP -> proto(IPPROTO_TCP, Pq.DEFAULT, at);
            case UDP -> proto(IPPROTO_UDP, Pq.DEFAULT, at);
            case SCTP -> proto(IPPROTO_SCTP, Pq.DEFAULT, at);
            case ICMP -> ipProto(1, at);
            case IGMP -> ipProto(2, at);
            case IGRP -> ipProto(9, at);
            case PIM -> proto(103, Pq.DEFAULT, at);
            case VRRP, CARP -> ipProto(112, at);
            case ICMP6 -> ip6Proto(58, at);
            case AH -> proto(51, Pq.DEFAULT, at);
            case ESP -> proto(50, Pq.DEFAULT, at);
            case LINK -> throw error(at, "link layer applied in wrong context");
            default -> throw error(at, "'" + at.text() + "' is not supported by jnetmap");
        };
    }

    private Cond ipfrag() {
        return Cond.not(Cond.test(List.of(stmt(LD | H | ABS, offNl + 6)), JMP | JSET | K, 0x1fff));
    }

    private Cond broadcast(Pq p, Tok at) {
        return switch (p) {
            case DEFAULT, LINK -> bcmp(0, new byte[] {-1, -1, -1, -1, -1, -1});
            case IP -> Cond.and(linktype(ETHERTYPE_IP, at), Cond.or(cmp(offNl + 16, W, 0), cmp(offNl + 16, W, -1)));
            default -> throw error(at, "only link-layer/IP broadcast filters supported");
        };
    }

    private Cond multicast(Pq p, Tok at) {
        return switch (p) {
            case DEFAULT, LINK -> Cond.test(List.of(stmt(LD | B | ABS, 0)), JMP | JSET | K, 1);
            case IP -> Cond.and(linktype(ETHERTYPE_IP, at), Cond.test(List.of(stmt(LD | B | ABS, offNl + 16)), JMP | JGE | K, 224));
            case IP6 -> Cond.and(linktype(ETHERTYPE_IPV6, at), cmp(offNl + 24, B, 255));
            default -> throw error(at, "link-layer multicast filters supported only on ethernet/FDDI/token ring/ARCNET/802.11/ATM LANE/Fibre Channel");
        };
    }

    private Cond vlan(Tok at, Long id) {
        if (mplsDepth > 0) throw error(at, "no VLAN match after MPLS");
        if (strippedTag && vlans++ == 0) {
            // the outer tag is beside the frame, not in it: its VID from the kernel, no offset moves
            if (id == null) return Cond.TRUE;
            if (id > 0x0fff) throw error(at, "VLAN tag " + id + " greater than maximum 4095");
            return Cond.test(List.of(stmt(LD | W | ABS, SKF_AD_OFF + SKF_AD_VLAN_TAG), stmt(ALU | AND | K, 0x0fff)), JMP | JEQ | K,
                    (int) (long) id);
        }
        vlans++;

        Cond b = Cond.or(Cond.or(cmp(offLinktype, H, 0x8100), cmp(offLinktype, H, 0x88a8)), cmp(offLinktype, H, 0x9100));
        if (id != null) {
            if (id > 0x0fff) throw error(at, "VLAN tag " + id + " greater than maximum 4095");
            b = Cond.and(b, mcmp(offNl, H, (int) (long) id, 0x0fff));
        }
        offLinktype += 4;
        offNl += 4;
        return b;
    }

    private Cond mpls(Tok at, Long label) {
        Cond b;
        if (mplsDepth > 0) {
            b = mcmp(offNl - 2, B, 0, 0x01);
        } else {
            b = cmp(offLinktype, H, ETHERTYPE_MPLS);
        }
        if (label != null) {
            if (label > 0xfffff) throw error(at, "MPLS label " + label + " greater than maximum 1048575");
            b = Cond.and(b, mcmp(offNl, W, (int) (label << 12), 0xfffff000));
        }
        offNl += 4;
        mplsDepth++;
        return b;
    }

    private Cond bcmp(int off, byte[] v) {
        Cond b = Cond.TRUE;
        int size = v.length;
        while (size >= 4) {
            int w = (v[size - 4] & 0xff) << 24 | (v[size - 3] & 0xff) << 16 | (v[size - 2] & 0xff) << 8 | v[size - 1] & 0xff;
            b = Cond.and(b, cmp(off + size - 4, W, w));
            size -= 4;
        }
        while (size >= 2) {
            int h = (v[size - 2] & 0xff) << 8 | v[size - 1] & 0xff;
            b = Cond.and(b, cmp(off + size - 2, H, h));
            size -= 2;
        }
        if (size > 0) {
            b = Cond.and(b, cmp(off, B, v[0] & 0xff));
        }
        return b;
    }

    private Cond ehostop(byte[] mac, Dq dir) {
        Cond src = bcmp(6, mac), dst = bcmp(0, mac);
        return switch (dir) {
            case SRC -> src;
            case DST -> dst;
            case AND -> Cond.and(src, dst);
            default -> Cond.or(src, dst);
        };
    }

    private static Cond dirop(Dq dir, Cond src, Cond dst) {
        return switch (dir) {
            case SRC -> src;
            case DST -> dst;
            case AND -> Cond.and(src, dst);
            default -> Cond.or(src, dst);
        };
    }

    private Cond hostop(int addr, int mask, Dq dir, int type, int srcOff, int dstOff, Tok at) {
        Cond b = dirop(dir, mcmp(offNl + srcOff, W, addr, mask), mcmp(offNl + dstOff, W, addr, mask));
        return Cond.and(linktype(type, at), b);
    }

    private Cond host(int addr, int mask, Q q, Tok at) {
        return switch (q.proto) {
            // libpcap's gen_host: no ARP/RARP alternatives inside MPLS (its linktype there knows only IPv4/IPv6)
            case DEFAULT -> mplsDepth > 0 ? host(addr, mask, q.withProto(Pq.IP), at)
                    : Cond.or(Cond.or(host(addr, mask, q.withProto(Pq.IP), at), host(addr, mask, q.withProto(Pq.ARP), at)),
                            host(addr, mask, q.withProto(Pq.RARP), at));
            case IP -> hostop(addr, mask, q.dir, ETHERTYPE_IP, 12, 16, at);
            case ARP -> hostop(addr, mask, q.dir, ETHERTYPE_ARP, 14, 24, at);
            case RARP -> hostop(addr, mask, q.dir, ETHERTYPE_RARP, 14, 24, at);
            case LINK -> throw error(at, "link-layer modifier applied to " + (q.addr == Aq.NET ? "net" : "host"));
            case IP6 -> throw error(at, "'ip6' modifier applied to ip host");
            default -> throw error(at, "'" + q.protoName + "' modifier applied to " + (q.addr == Aq.NET ? "net" : "host"));
        };
    }

    private Cond host6(byte[] addr, byte[] mask, Q q, Tok at) {
        switch (q.proto) {
            case DEFAULT, IP6 -> { }
            case IP -> throw error(at, "'ip' modifier applied to ip6 " + (q.addr == Aq.NET ? "net" : "host"));
            case LINK -> throw error(at, "link-layer modifier applied to ip6 " + (q.addr == Aq.NET ? "net" : "host"));
            default -> throw error(at, "'" + q.protoName + "' modifier applied to ip6 " + (q.addr == Aq.NET ? "net" : "host"));
        }
        Cond src = Cond.TRUE, dst = Cond.TRUE;
        for (int w = 0; w < 4; w++) {
            int a = word(addr, w), m = word(mask, w);
            if (m == 0) continue;
            src = Cond.and(src, mcmp(offNl + 8 + 4 * w, W, a, m));
            dst = Cond.and(dst, mcmp(offNl + 24 + 4 * w, W, a, m));
        }
        return Cond.and(linktype(ETHERTYPE_IPV6, at), dirop(q.dir, src, dst));
    }

    private static int word(byte[] b, int w) {
        return (b[4 * w] & 0xff) << 24 | (b[4 * w + 1] & 0xff) << 16 | (b[4 * w + 2] & 0xff) << 8 | b[4 * w + 3] & 0xff;
    }

    /** A dotted address: {value, bits} as libpcap's __pcap_atoin. */
    private long[] atoin(Tok t) {
        String[] parts = t.text().split("\\.");
        long v = 0;
        for (String p : parts) {
            long part = FilterLexer.parseNumber(expr, p, t.col());
            if (part > 255) throw error(t, "invalid IPv4 address " + t.text());
            v = v << 8 | part;
        }
        return new long[] {v, 8L * parts.length};
    }

    private Cond ncode(Tok dotted, long num, Q q, Tok at) {
        long v;
        long mask = 0xffffffffL;
        if (dotted != null) {
            long[] a = atoin(dotted);
            v = a[0];
            int vlen = (int) a[1];
            v = (v << (32 - vlen)) & 0xffffffffL;
            mask = (mask << (32 - vlen)) & 0xffffffffL;
        } else {
            v = num;
        }
        switch (q.addr) {
            case DEFAULT, HOST, NET -> {
                if (q.proto == Pq.LINK) throw error(at, "illegal link layer address");
                if (q.addr == Aq.NET && dotted == null) {
                    while (v != 0 && (v & 0xff000000L) == 0) {
                        v = (v << 8) & 0xffffffffL;
                        mask = (mask << 8) & 0xffffffffL;
                    }
                }
                Cond h = host((int) v, (int) mask, q, at);
                noteHost(v, mask, q);
                return h;
            }
            case PORT, PORTRANGE -> {
                if (dotted != null) throw error(at, "illegal " + (q.addr == Aq.PORT ? "port" : "portrange") + " value " + dotted.text());
                int proto = portProto(q, at);
                if (v > 65535) throw error(at, "illegal port number " + v + " > 65535");
                return ports(q, proto, (int) v, (int) v, q.addr == Aq.PORTRANGE);
            }
            case GATEWAY -> throw error(at, "'gateway' requires a name");
            case PROTO -> {
                if (dotted != null) throw error(at, "illegal protocol number " + dotted.text());
                if (q.dir != Dq.DEFAULT) throw error(at, "direction applied to 'proto'");
                return proto((int) v, q.proto, at);
            }
            default -> {
                if (dotted != null) throw error(at, "illegal protocol number " + dotted.text());
                return protochain((int) v, q.proto, at);
            }
        }
    }

    private Cond mcode4(Tok addrTok, long[] addr, long masklen, long maskValue, Q q) {
        long m;
        String shown;
        if (masklen >= 0) {
            if (masklen > 32) throw error(addrTok, "mask length must be <= 32");
            m = masklen == 0 ? 0 : (0xffffffffL << (32 - masklen)) & 0xffffffffL;
            shown = addrTok.text() + "/" + masklen;
        } else {
            m = maskValue;
            shown = addrTok.text() + " mask";
        }
        long n = (addr[0] << (32 - addr[1])) & 0xffffffffL;
        if ((n & ~m & 0xffffffffL) != 0) throw error(addrTok, "non-network bits set in \"" + (masklen >= 0 ? shown : addrTok.text() + " mask") + "\"");
        if (q.addr != Aq.NET && q.addr != Aq.DEFAULT) throw error(addrTok, "Mask syntax for networks only");
        if (q.proto == Pq.LINK) throw error(addrTok, "illegal link layer address");
        Cond h = host((int) n, (int) m, q, addrTok);
        noteHost(n, m, q);
        return h;
    }

    private Cond mcode6(Tok t, int len, boolean withMask, Q q) {
        byte[] a = InetAddress.ofLiteral(t.text()).getAddress();
        byte[] m = new byte[16];
        for (int i = 0; i < len; i++) m[i / 8] |= (byte) (0x80 >>> (i % 8));
        for (int i = 0; i < 16; i++) {
            if ((a[i] & ~m[i]) != 0) throw error(t, "non-network bits set in \"" + t.text() + "/" + len + "\"");
        }
        switch (q.addr) {
            case DEFAULT, HOST -> {
                if (withMask && q.addr == Aq.HOST) throw error(t, "Mask syntax for networks only");
            }
            case NET -> { }
            default -> throw error(t, "invalid qualifier against IPv6 address");
        }
        return host6(a, m, q, t);
    }

    private byte[] mac(Tok t) {
        String hex = t.text().replaceAll("[:.\\-]", "");
        String[] parts = t.text().split("[:.\\-]");
        byte[] out = new byte[6];
        if (parts.length == 6) {
            for (int i = 0; i < 6; i++) out[i] = (byte) Integer.parseInt(parts[i], 16);
        } else {
            for (int i = 0; i < 6; i++) out[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
        }
        return out;
    }

    private int portProto(Q q, Tok at) {
        return switch (q.proto) {
            case DEFAULT -> PROTO_UNDEF;
            case TCP -> IPPROTO_TCP;
            case UDP -> IPPROTO_UDP;
            case SCTP -> IPPROTO_SCTP;
            default -> throw error(at, "illegal qualifier of '" + (q.addr == Aq.PORT ? "port" : "portrange") + "'");
        };
    }

    /** libpcap's gen_port/gen_portrange, IPv6 first then IPv4 as gen_scode orders them. */
    private Cond ports(Q q, int proto, int lo, int hi, boolean range) {
        if (lo > hi) {
            int x = lo;
            lo = hi;
            hi = x;
        }
        return Cond.or(port(q.dir, proto, lo, hi, range, true), port(q.dir, proto, lo, hi, range, false));
    }

    private Cond port(Dq dir, int proto, int lo, int hi, boolean range, boolean v6) {
        Cond b;
        if (proto == PROTO_UNDEF) {
            b = Cond.or(portop(dir, IPPROTO_SCTP, lo, hi, range, v6),
                    Cond.or(portop(dir, IPPROTO_TCP, lo, hi, range, v6), portop(dir, IPPROTO_UDP, lo, hi, range, v6)));
        } else {
            b = portop(dir, proto, lo, hi, range, v6);
        }
        // libpcap's gen_linktype, so inside MPLS the test is the bottom-of-stack bit and the IP version, not the ethertype
        return Cond.and(linktype(v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IP, null), b);
    }

    private Cond portop(Dq dir, int proto, int lo, int hi, boolean range, boolean v6) {
        Cond pr = v6 ? cmp(offNl + 6, B, proto) : Cond.and(cmp(offNl + 9, B, proto), ipfrag());
        Cond src = portatom(0, lo, hi, range, v6), dst = portatom(2, lo, hi, range, v6);
        return Cond.and(pr, dirop(dir, src, dst));
    }

    private Cond portatom(int off, int lo, int hi, boolean range, boolean v6) {
        List<Insn> ld = v6 ? List.of(stmt(LD | H | ABS, offNl + 40 + off))
                : List.of(stmt(LDX | B | MSH, offNl), stmt(LD | H | IND, offNl + off));
        if (!range) return Cond.test(ld, JMP | JEQ | K, lo);
        return Cond.and(Cond.test(ld, JMP | JGE | K, lo), Cond.not(Cond.test(ld, JMP | JGT | K, hi)));
    }

    private Cond scode(Tok t, Q q) {
        String name = t.text();
        switch (q.addr) {
            case NET -> throw error(t, "unknown network '" + name + "'");
            case DEFAULT, HOST -> {
                if (q.proto == Pq.LINK) throw error(t, "unknown ether host '" + name + "'");
                InetAddress[] all;
                try {
                    all = InetAddress.getAllByName(name);
                } catch (UnknownHostException | SecurityException e) {
                    throw error(t, "unknown host '" + name + "'");
                }
                Cond b = Cond.FALSE;
                boolean any = false;
                for (InetAddress a : all) {
                    if (a instanceof Inet4Address v4 && (q.proto == Pq.DEFAULT || q.proto == Pq.IP || q.proto == Pq.ARP || q.proto == Pq.RARP)) {
                        b = any ? Cond.or(b, host(word(v4.getAddress(), 0), -1, q, t)) : host(word(v4.getAddress(), 0), -1, q, t);
                        any = true;
                    } else if (a instanceof Inet6Address v6 && (q.proto == Pq.DEFAULT || q.proto == Pq.IP6)) {
                        byte[] m = new byte[16];
                        java.util.Arrays.fill(m, (byte) -1);
                        Cond h = host6(v6.getAddress(), m, q, t);
                        b = any ? Cond.or(b, h) : h;
                        any = true;
                    }
                }
                if (!any) {
                    if (q.proto != Pq.DEFAULT && q.proto != Pq.IP && q.proto != Pq.IP6 && q.proto != Pq.ARP && q.proto != Pq.RARP) {
                        throw error(t, "'" + q.protoName + "' modifier applied to host");
                    }
                    throw error(t, "unknown host '" + name + "' for specified address family");
                }
                return b;
            }
            case PORT -> {
                int proto = portProto(q, t);
                int[] pp = Services.port(name);
                if (pp == null) throw error(t, "unknown port '" + name + "'");
                proto = checkServiceProto(t, name, proto, pp[1]);
                return ports(q, proto, pp[0], pp[0], false);
            }
            case PORTRANGE -> {
                int proto = portProto(q, t);
                int dash = name.indexOf('-');
                int[] lo, hi;
                if (dash < 0) {
                    lo = hi = Services.port(name);
                    if (lo == null) throw error(t, "unknown port in range '" + name + "'");
                } else {
                    lo = Services.port(name.substring(0, dash));
                    hi = Services.port(name.substring(dash + 1));
                    if (lo == null || hi == null) throw error(t, "unknown port in range '" + name + "'");
                }
                if (lo[0] > 65535 || hi[0] > 65535) throw error(t, "illegal port number in range '" + name + "'");
                return ports(q, proto, lo[0], hi[0], true);
            }
            case GATEWAY -> throw error(t, "'gateway' not supported in this configuration"); // as libpcap built with IPv6
            case PROTO -> {
                if (q.dir != Dq.DEFAULT) throw error(t, "direction applied to 'proto'");
                int v;
                if (q.proto == Pq.LINK) {
                    v = Services.etherProto(name);
                    if (v < 0) throw error(t, "unknown ether proto '" + name + "'");
                } else {
                    v = Services.ipProto(name);
                    if (v < 0) throw error(t, "unknown ip proto '" + name + "'");
                }
                return proto(v, q.proto, t);
            }
            default -> {
                int v = Services.ipProto(name);
                if (v < 0) throw error(t, "unknown ip proto '" + name + "'");
                return protochain(v, q.proto, t);
            }
        }
    }

    private int checkServiceProto(Tok t, String name, int wanted, int real) {
        if (wanted == IPPROTO_UDP && real == IPPROTO_TCP) throw error(t, "port '" + name + "' is tcp");
        if (wanted == IPPROTO_TCP && real == IPPROTO_UDP) throw error(t, "port '" + name + "' is udp");
        if (wanted == IPPROTO_SCTP && (real == IPPROTO_TCP || real == IPPROTO_UDP)) {
            throw error(t, "port '" + name + "' is " + (real == IPPROTO_TCP ? "tcp" : "udp"));
        }
        return wanted == PROTO_UNDEF ? real : wanted;
    }
}
