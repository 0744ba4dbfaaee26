package io.jnetmap.core.nic;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Network namespaces and veth pairs for tests and benchmarks, named uniquely ({@code jn<pid>...}) and
 * always removed: by {@link #close()}, and by a shutdown hook if the JVM exits first. Every command runs
 * with a timeout. Namespaces get IPv6 off, so the kernel sends nothing on their links by itself (no
 * router solicitations, no MLD) and receive rings see only the traffic a test makes.
 *
 * <pre>{@code
 * try (NetLab lab = new NetLab()) {
 *     NetLab.Veth v = lab.vethPair();          // v.a() in namespace v.nsA(), v.b() in v.nsB()
 *     try (NetNamespace ns = NetNamespace.enter(v.nsA())) { ... Netmap.open("netmap:" + v.a()) ... }
 * }
 * }</pre>
 */
public final class NetLab implements AutoCloseable {
    private static final long PID = ProcessHandle.current().pid();
    private static final AtomicInteger COUNTER = new AtomicInteger();
    /** Namespaces any lab of this JVM created and has not removed yet. */
    private static final Set<String> LIVE_NAMESPACES = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(NetLab::removeAllLeft, "netlab-cleanup"));
    }

    private final List<String> namespaces = new ArrayList<>();

    /** An empty lab: namespaces and veth pairs are made on demand. */
    public NetLab() {
    }

    /** A veth pair: end {@code a} (MAC {@code macA}) in namespace {@code nsA}, end {@code b} in {@code nsB}. */
    public record Veth(String a, String nsA, String macA, String b, String nsB, String macB) {
    }

    /** A unique short name with {@code tag}, e.g. {@code jn4242a7}. */
    public static String uniqueName(String tag) {
        String n = "jn" + (PID % 100000) + tag + COUNTER.incrementAndGet();
        if (n.length() > 15) {
            throw new IllegalStateException("name " + n + " is longer than an interface name may be");
        }
        return n;
    }

    /** A new network namespace with lo up and IPv6 off; removed by {@link #close()}. */
    public String namespace() {
        String ns = uniqueName("n");
        ip("netns", "add", ns);
        namespaces.add(ns);
        LIVE_NAMESPACES.add(ns);
        inNs(ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1");
        inNs(ns, "sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1");
        inNs(ns, "ip", "link", "set", "lo", "up");
        return ns;
    }

    /** A veth pair with one queue each, its ends in two new namespaces, both up. */
    public Veth vethPair() {
        return vethPair(namespace(), namespace());
    }

    /** A veth pair with one queue each between existing namespaces {@code nsA} and {@code nsB} (may be equal). */
    public Veth vethPair(String nsA, String nsB) {
        String a = uniqueName("a");
        String b = uniqueName("b");
        int n = COUNTER.incrementAndGet();
        String macA = String.format("02:6a:%02x:%02x:%02x:01", (PID >> 8) & 0xff, PID & 0xff, n & 0xff);
        String macB = String.format("02:6a:%02x:%02x:%02x:02", (PID >> 8) & 0xff, PID & 0xff, n & 0xff);
        // created in nsA directly, so no interface of this test ever appears in the root namespace
        inNs(nsA, "ip", "link", "add", a, "numtxqueues", "1", "numrxqueues", "1", "address", macA, "type", "veth",
                "peer", "name", b, "numtxqueues", "1", "numrxqueues", "1", "address", macB, "netns", nsB);
        inNs(nsA, "ip", "link", "set", a, "up");
        inNs(nsB, "ip", "link", "set", b, "up");
        return new Veth(a, nsA, macA, b, nsB, macB);
    }

    /** Runs {@code cmd} inside namespace {@code ns}; returns its output; throws if it fails. */
    public static String inNs(String ns, String... cmd) {
        List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        c.addAll(List.of(cmd));
        return run(c);
    }

    /** Runs {@code ip ARGS} in the root namespace. */
    public static String ip(String... args) {
        List<String> c = new ArrayList<>();
        c.add("ip");
        c.addAll(List.of(args));
        return run(c);
    }

    /** Runs a command with a 20 s timeout; returns stdout+stderr; throws with the output if it fails. */
    public static String run(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + String.join(" ", cmd));
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new IllegalStateException("failed (exit " + p.exitValue() + "): " + String.join(" ", cmd) + "\n" + out);
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + String.join(" ", cmd) + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + String.join(" ", cmd), e);
        }
    }

    /** A counter of interface {@code dev} in namespace {@code ns} ({@code rx_packets}, {@code tx_dropped} …). */
    public static long counter(String ns, String dev, String name) {
        return Long.parseLong(inNs(ns, "cat", "/sys/class/net/" + dev + "/statistics/" + name).trim());
    }

    /** Removes every namespace (and with it every interface in it) this lab created. */
    @Override
    public void close() {
        RuntimeException failure = null;
        for (String ns : namespaces) {
            try {
                ip("netns", "del", ns);
            } catch (RuntimeException e) {
                failure = e;
            }
            LIVE_NAMESPACES.remove(ns);
        }
        namespaces.clear();
        if (failure != null) {
            throw failure;
        }
    }

    private static void removeAllLeft() {
        for (String ns : LIVE_NAMESPACES) {
            try {
                ip("netns", "del", ns);
            } catch (RuntimeException ignored) {
                // best effort at exit
            }
        }
    }
}
