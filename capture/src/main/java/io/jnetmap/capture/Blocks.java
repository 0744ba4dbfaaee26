package io.jnetmap.capture;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

import static io.jnetmap.capture.Bpf.*;

/**
 * The filter as a graph of test blocks before it becomes a linear program, libpcap's way: every block is a
 * few statements that compute A from the packet alone (self-contained: they never read what an earlier block
 * left in A, X or M[]), then one conditional jump to a true and a false successor. Because a block's
 * statements are a pure function of the packet, identical statements mean the same value wherever they run,
 * which is what the optimizer builds on:
 * <ul>
 *   <li>facts — along each edge, what is known of every value tested so far (a range, values it is not);
 *       a test whose outcome the facts decide is jumped over;</li>
 *   <li>a block entered right after a block with identical statements skips them (A, X and M[] already
 *       hold their results);</li>
 *   <li>identical blocks are shared (hash-consing), so common tails exist once.</li>
 * </ul>
 */
final class Blocks {
    /** A test block or a return. */
    static final class Node {
        final Insn[] stmts;
        final String key; // what A holds when the jump runs: the statements that computed it
        final int jcode; // JMP | op | src, or RET for a return
        final int k;
        Node t, f;
        int id;

        Node(Insn[] stmts, String key, int jcode, int k, Node t, Node f) {
            this.stmts = stmts;
            this.key = key;
            this.jcode = jcode;
            this.k = k;
            this.t = t;
            this.f = f;
        }

        boolean isRet() {
            return jcode == RET;
        }
    }

    /** A boolean condition not yet placed: given where true and false go, builds its blocks. */
    @FunctionalInterface
    interface Cond {
        Node build(Blocks g, Node t, Node f);

        Cond TRUE = (g, t, f) -> t;
        Cond FALSE = (g, t, f) -> f;

        static Cond and(Cond a, Cond b) {
            if (a == TRUE) return b;
            if (b == TRUE) return a;
            if (a == FALSE || b == FALSE) return FALSE;
            return (g, t, f) -> a.build(g, b.build(g, t, f), f);
        }

        static Cond or(Cond a, Cond b) {
            if (a == FALSE) return b;
            if (b == FALSE) return a;
            if (a == TRUE || b == TRUE) return TRUE;
            return (g, t, f) -> a.build(g, t, b.build(g, t, f));
        }

        static Cond not(Cond a) {
            if (a == TRUE) return FALSE;
            if (a == FALSE) return TRUE;
            return (g, t, f) -> a.build(g, f, t);
        }

        /** A test whose statements read what an earlier block left in A: it never shares facts or statements. */
        static Cond opaque(List<Insn> stmts, int jcode, int k) {
            Insn[] s = stmts.toArray(new Insn[0]);
            String key = "opaque#" + OPAQUE.incrementAndGet();
            return (g, t, f) -> g.node(s, key, jcode, k, t, f);
        }

        java.util.concurrent.atomic.AtomicLong OPAQUE = new java.util.concurrent.atomic.AtomicLong();

        static Cond test(List<Insn> stmts, int jcode, int k) {
            Insn[] s = stmts.toArray(new Insn[0]);
            String key = Arrays.toString(s);
            return (g, t, f) -> g.node(s, key, jcode, k, t, f);
        }
    }

    private final Map<List<Object>, Node> interned = new HashMap<>();
    private Set<Node> xKnownCache;
    final Node accept;
    final Node reject;

    Blocks(int snaplen) {
        accept = new Node(new Insn[0], "", RET, snaplen, null, null);
        reject = new Node(new Insn[0], "", RET, 0, null, null);
    }

    Node node(Insn[] stmts, String key, int jcode, int k, Node t, Node f) {
        if (t == f) {
            return t; // the test decides nothing
        }
        List<Object> id = List.of(key, stmts.length, jcode, k, System.identityHashCode(t), System.identityHashCode(f));
        Node n = interned.get(id);
        if (n == null || n.t != t || n.f != f || n.stmts.length != stmts.length) {
            n = new Node(stmts, key, jcode, k, t, f);
            interned.put(id, n);
        }
        return n;
    }

    // ---------------------------------------------------------------- optimizer

    /** What is known of one value along a path: lo..hi (unsigned) and values it is not. */
    private record Fact(long lo, long hi, Set<Long> not) {
        static final Fact ANY = new Fact(0, 0xffffffffL, Set.of());

        Fact meet(Fact o) {
            Set<Long> n = new HashSet<>();
            for (long v : not) {
                if (o.excludes(v)) n.add(v);
            }
            for (long v : o.not) {
                if (excludes(v)) n.add(v);
            }
            return new Fact(Math.min(lo, o.lo), Math.max(hi, o.hi), n);
        }

        boolean excludes(long v) {
            return v < lo || v > hi || not.contains(v);
        }

        Fact with(int jcode, long kk, boolean outcome) {
            long l = lo, h = hi;
            Set<Long> n = not;
            switch (jcode & 0xf0) {
                case JEQ -> {
                    if (outcome) {
                        l = Math.max(l, kk);
                        h = Math.min(h, kk);
                    } else {
                        n = new HashSet<>(not);
                        n.add(kk);
                    }
                }
                case JGT -> {
                    if (outcome) l = Math.max(l, kk + 1); else h = Math.min(h, kk);
                }
                case JGE -> {
                    if (outcome) l = Math.max(l, kk); else h = Math.min(h, kk - 1);
                }
                default -> { }
            }
            return new Fact(l, h, n);
        }

        /** The test's outcome if these facts decide it, else null. */
        Boolean decide(int jcode, long kk) {
            if (lo > hi) return null; // an impossible path: leave it alone
            switch (jcode & 0xf0) {
                case JEQ -> {
                    if (lo == hi) return lo == kk;
                    if (excludes(kk)) return false;
                }
                case JGT -> {
                    if (lo > kk) return true;
                    if (hi <= kk) return false;
                }
                case JGE -> {
                    if (lo >= kk) return true;
                    if (hi < kk) return false;
                }
                case JSET -> {
                    if (lo == hi) return (lo & kk) != 0;
                }
                default -> { }
            }
            return null;
        }
    }

    private static boolean analysable(Node n) {
        return !n.isRet() && (n.jcode & X) == 0;
    }

    private static String jsetKey(Node n) {
        return n.key + "&" + n.k;
    }

    private static Map<String, Fact> exit(Map<String, Fact> in, Node n, boolean outcome) {
        if (!analysable(n)) return in;
        Map<String, Fact> out = new HashMap<>(in);
        long kk = n.k & 0xffffffffL;
        if ((n.jcode & 0xf0) == JSET) {
            out.put(jsetKey(n), outcome ? new Fact(1, 1, Set.of()) : new Fact(0, 0, Set.of()));
        } else {
            out.put(n.key, in.getOrDefault(n.key, Fact.ANY).with(n.jcode, kk, outcome));
        }
        return out;
    }

    private static Boolean decide(Map<String, Fact> facts, Node n) {
        if (!analysable(n)) return null;
        if ((n.jcode & 0xf0) == JSET) {
            Fact f = facts.get(jsetKey(n));
            if (f != null && f.lo == f.hi) return f.lo == 1; // a meet of both outcomes (0..1) decides nothing
        }
        Fact f = facts.get(n.key);
        return f == null ? null : f.decide(n.jcode, n.k & 0xffffffffL);
    }

    private static Map<String, Fact> meet(Map<String, Fact> a, Map<String, Fact> b) {
        if (a == null) return b;
        Map<String, Fact> m = new HashMap<>();
        for (var e : a.entrySet()) {
            Fact o = b.get(e.getKey());
            if (o != null) m.put(e.getKey(), e.getValue().meet(o));
        }
        return m;
    }

    /** Jumps over decided tests, skips recomputed statements, shares identical blocks; returns the new root. */
    Node optimize(Node root) {
        droppedRoot = null;
        for (int pass = 0; pass < 3; pass++) {
            Node before = root;
            int sizeBefore = reachable(root).size();
            root = thread(root);
            root = share(root, false);
            if (root == before && reachable(root).size() == sizeBefore && pass > 0) break;
        }
        // last, as no fact can be read from them any more: test-only blocks whatever value they test
        root = share(root, true);
        return keepRootStatements(root);
    }

    /** The first block, when a pass left it out because its test no longer decided anything. */
    private Node droppedRoot;

    /**
     * libpcap's opt_root: a first block whose test decides nothing any more is left out, but its statements
     * are kept in front of the new first block's (unless that is a return). They still reject a packet too
     * short for their loads: {@code not (ip and ip6 or greater 100)} drops a 3-byte runt as tcpdump does.
     */
    private Node keepRootStatements(Node root) {
        Node first = droppedRoot;
        if (first == null || root.isRet() || first.stmts.length == 0) return root;
        Insn[] s = new Insn[first.stmts.length + root.stmts.length];
        System.arraycopy(first.stmts, 0, s, 0, first.stmts.length);
        System.arraycopy(root.stmts, 0, s, first.stmts.length, root.stmts.length);
        // a test-only root reads A from the dropped block's statements: its key says they computed the same
        return new Node(s, root.key, root.jcode, root.k, root.t, root.f);
    }

    private Node thread(Node root) {
        List<Node> order = topological(root);
        Map<Node, Integer> rank = new IdentityHashMap<>();
        for (int i = 0; i < order.size(); i++) rank.put(order.get(i), i);
        Map<Node, Node> testOnly = new IdentityHashMap<>();
        Map<Node, Map<String, Fact>> in = new IdentityHashMap<>();
        PriorityQueue<Node> work = new PriorityQueue<>((a, b) -> Integer.compare(rank.get(a), rank.get(b)));
        Set<Node> queued = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        in.put(root, new HashMap<>());
        work.add(root);
        queued.add(root);
        while (!work.isEmpty()) {
            Node n = work.poll();
            if (n.isRet()) continue;
            Map<String, Fact> facts = in.get(n);
            for (int side = 0; side < 2; side++) {
                boolean outcome = side == 0;
                Map<String, Fact> e = exit(facts, n, outcome);
                Node s = outcome ? n.t : n.f;
                Boolean d;
                while ((d = decide(e, s)) != null) {
                    e = exit(e, s, d);
                    s = d ? s.t : s.f;
                }
                if (!s.isRet() && s.stmts.length > 0 && s.key.equals(n.key)) {
                    Node c = testOnly.get(s);
                    if (c == null) {
                        c = new Node(new Insn[0], s.key, s.jcode, s.k, s.t, s.f);
                        testOnly.put(s, c);
                        rank.put(c, rank.get(s));
                    }
                    s = c;
                }
                if (outcome) n.t = s; else n.f = s;
                in.merge(s, e, Blocks::meet);
                if (queued.add(s)) work.add(s);
            }
        }
        return root;
    }

    /** Hash-conses the reachable graph bottom-up; test-only blocks are shared whatever value their test reads. */
    private Node share(Node root, boolean acrossKeys) {
        Node oldRoot = root;
        List<Node> order = topological(root);
        Map<List<Object>, Node> table = new HashMap<>();
        Map<Node, Node> canon = new IdentityHashMap<>();
        canon.put(accept, accept);
        canon.put(reject, reject);
        for (int i = order.size() - 1; i >= 0; i--) {
            Node n = order.get(i);
            if (n.isRet()) continue;
            Node t = canon.get(n.t), f = canon.get(n.f);
            if (t == f) {
                if (n == oldRoot && droppedRoot == null) droppedRoot = n;
                canon.put(n, t);
                continue;
            }
            String key = n.stmts.length == 0 && acrossKeys ? "" : n.key;
            List<Object> id = List.of(key, n.stmts.length, n.jcode, n.k, System.identityHashCode(t), System.identityHashCode(f));
            Node c = table.get(id);
            if (c == null || c.t != t || c.f != f) {
                n.t = t;
                n.f = f;
                table.put(id, n);
                c = n;
            }
            canon.put(n, c);
        }
        return canon.get(root);
    }

    static List<Node> reachable(Node root) {
        List<Node> out = new ArrayList<>();
        Set<Node> seen = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        ArrayDeque<Node> st = new ArrayDeque<>();
        st.push(root);
        while (!st.isEmpty()) {
            Node n = st.pop();
            if (!seen.add(n)) continue;
            out.add(n);
            if (!n.isRet()) {
                st.push(n.f);
                st.push(n.t);
            }
        }
        return out;
    }

    /** Reverse post-order: every block before its successors; a block's true successor tends to follow it. */
    static List<Node> topological(Node root) {
        List<Node> post = new ArrayList<>();
        Set<Node> seen = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        ArrayDeque<Object[]> st = new ArrayDeque<>();
        st.push(new Object[] {root, 0});
        seen.add(root);
        while (!st.isEmpty()) {
            Object[] top = st.peek();
            Node n = (Node) top[0];
            int state = (Integer) top[1];
            if (n.isRet() || state == 2) {
                st.pop();
                post.add(n);
                continue;
            }
            top[1] = state + 1;
            Node next = state == 0 ? n.f : n.t; // the false side first, so the true side comes right after
            if (seen.add(next)) {
                st.push(new Object[] {next, 0});
            }
        }
        List<Node> order = new ArrayList<>(post.size());
        for (int i = post.size() - 1; i >= 0; i--) order.add(post.get(i));
        return order;
    }

    // ---------------------------------------------------------------- linear program

    /** Lays the blocks out as a program; conditional jumps longer than 255 go through an unconditional one. */
    Bpf linearize(Node root) {
        List<Node> order = new ArrayList<>(topological(root));
        boolean hasAccept = order.remove(accept), hasReject = order.remove(reject);
        if (hasAccept) order.add(accept);
        if (hasReject) order.add(reject);
        Set<Node> xKnown = xAlreadyLoaded(order);
        xKnownCache = xKnown;
        // trampolines: per block, for a far true or false target, one "ja" placed right after the block
        Map<Node, boolean[]> far = new IdentityHashMap<>();
        while (true) {
            Map<Node, Integer> start = new IdentityHashMap<>();
            int pc = 0;
            for (Node n : order) {
                start.put(n, pc);
                pc += size(n, far);
            }
            if (pc > MAX_INSNS) {
                throw new IllegalArgumentException("the filter needs " + pc + " instructions (expected: at most " + MAX_INSNS + ")");
            }
            boolean changed = false;
            for (Node n : order) {
                if (n.isRet()) continue;
                int jpc = start.get(n) + n.stmts.length - (xKnown.contains(n) ? 1 : 0);
                boolean[] fl = far.computeIfAbsent(n, x -> new boolean[2]);
                if (!fl[0] && start.get(n.t) - (jpc + 1) > 255) { fl[0] = true; changed = true; }
                if (!fl[1] && start.get(n.f) - (jpc + 1) > 255) { fl[1] = true; changed = true; }
            }
            if (changed) continue;
            List<Insn> out = new ArrayList<>(pc);
            for (Node n : order) {
                if (n.isRet()) {
                    out.add(Insn.stmt(RET | K, n.k));
                    continue;
                }
                out.addAll(Arrays.asList(n.stmts).subList(xKnown.contains(n) ? 1 : 0, n.stmts.length));
                int jpc = out.size();
                boolean[] fl = far.get(n);
                int tramp = jpc + 1;
                int jt, jf;
                int ti = -1, fi = -1;
                if (fl != null && fl[0]) { ti = tramp++; }
                if (fl != null && fl[1]) { fi = tramp++; }
                jt = (ti >= 0 ? ti : start.get(n.t)) - (jpc + 1);
                jf = (fi >= 0 ? fi : start.get(n.f)) - (jpc + 1);
                out.add(Insn.jump(n.jcode, n.k, jt, jf));
                if (ti >= 0) out.add(Insn.stmt(JMP | JA, start.get(n.t) - (ti + 1)));
                if (fi >= 0) out.add(Insn.stmt(JMP | JA, start.get(n.f) - (fi + 1)));
            }
            return new Bpf(out.toArray(new Insn[0]));
        }
    }

    /**
     * Blocks whose first statement loads X with {@code ldxb 4*([k]&0xf)} when every path into them already did
     * so (and nothing changed X since): the load is left out.
     */
    private Set<Node> xAlreadyLoaded(List<Node> order) {
        Map<Node, Object> xIn = new IdentityHashMap<>();
        Object unknown = new Object();
        Set<Node> out = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        for (Node n : order) {
            Object in = xIn.getOrDefault(n, unknown);
            if (n.isRet()) continue;
            Object x = in;
            for (int i = 0; i < n.stmts.length; i++) {
                Insn s = n.stmts[i];
                int c = s.code();
                if (c == (LDX | B | MSH)) {
                    if (i == 0 && in.equals(s)) out.add(n);
                    x = s;
                } else if (cls(c) == LDX || c == (MISC | TAX)) {
                    x = unknown;
                }
            }
            for (Node succ : new Node[] {n.t, n.f}) {
                Object prev = xIn.get(succ);
                xIn.put(succ, prev == null ? x : prev.equals(x) ? x : unknown);
            }
        }
        return out;
    }

    private int size(Node n, Map<Node, boolean[]> far) {
        if (n.isRet()) return 1;
        if (xKnownCache != null && xKnownCache.contains(n)) return n.stmts.length + (far.get(n) == null ? 0 : (far.get(n)[0] ? 1 : 0) + (far.get(n)[1] ? 1 : 0));
        boolean[] fl = far.get(n);
        int extra = fl == null ? 0 : (fl[0] ? 1 : 0) + (fl[1] ? 1 : 0);
        return n.stmts.length + 1 + extra;
    }
}
