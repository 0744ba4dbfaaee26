package io.jnetmap.core;

import io.jnetmap.core.spi.MonitorPublisher;
import io.jnetmap.core.spi.PortProvider;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Opens ports by name (netmap's syntax, {@link PortName}). The module serving each kind of port is
 * found with {@link ServiceLoader}: {@code netmap:} and monitors by {@code netmap-core}, {@code vale}
 * by {@code vale-switch}, pipes by {@code pipes}.
 *
 * <pre>{@code
 * try (Port tx = Netmap.open("pipe{1"); Port rx = Netmap.open("pipe}1")) { ... }
 * }</pre>
 */
public final class Netmap {
    private static final Map<String, String> MODULE_OF_KIND = Map.of(
            "netmap", "io.jnetmap:netmap-core", "monitor", "io.jnetmap:netmap-core",
            "vale", "io.jnetmap:vale-switch", "pipe", "io.jnetmap:pipes", "vhost", "io.jnetmap:vhost");
    private static volatile Map<String, PortProvider> providers;
    /** The one {@link MonitorPublisher} (element 0, null if none), once looked up. */
    private static volatile MonitorPublisher[] publisher;
    /**
     * Ports open in this process, by name without options: for {@code @share=} and monitors. Netmap owns
     * it: ports never deregister themselves; an entry whose port reports {@link Port#isClosed()} is
     * dropped when it is looked up, and all of them at every {@link #open}.
     */
    private static final Map<String, Port> OPEN = new ConcurrentHashMap<>();

    private Netmap() {
    }

    /**
     * Opens port {@code name}. Errors: {@link PortNameException} (bad syntax, with the position),
     * {@link NetmapException.UnknownPortKind} (no module for it), {@link NetmapException.NoSuchInterface},
     * {@link NetmapException.PermissionDenied}, {@link NetmapException.PortBusy}, each with a message
     * saying what to do.
     */
    public static Port open(String name) {
        PortName pn = PortName.parse(name);
        PortProvider provider = providers().get(pn.kind());
        if (provider == null) {
            throw new NetmapException.UnknownPortKind("cannot open \"" + name + "\": no module serves \"" + pn.kind()
                    + "\" ports; put " + MODULE_OF_KIND.getOrDefault(pn.kind(), "its module")
                    + " on the class path (kinds available: " + String.join(", ", providers().keySet()) + ")");
        }
        Port port = provider.open(pn);
        OPEN.values().removeIf(Port::isClosed);
        OPEN.compute(pn.withoutOptions(), (k, old) -> old == null || old.isClosed() ? port : old);
        if (pn.kind().equals("pipe") || pn.kind().equals("netmap")) {
            MonitorPublisher mp = publisher();
            if (mp != null) {
                mp.published(port);
            }
        }
        return port;
    }

    /** The loaded {@link MonitorPublisher}, or null if no module on the class path provides one. */
    static MonitorPublisher publisher() {
        MonitorPublisher[] p = publisher;
        if (p == null) {
            synchronized (Netmap.class) {
                p = publisher;
                if (p == null) {
                    p = new MonitorPublisher[] {
                        ServiceLoader.load(MonitorPublisher.class, Netmap.class.getClassLoader()).findFirst().orElse(null)};
                    publisher = p;
                }
            }
        }
        return p[0];
    }

    /** The port kinds available in this process and the provider class serving each. */
    public static Map<String, String> kinds() {
        Map<String, String> out = new TreeMap<>();
        providers().forEach((k, p) -> out.put(k, p.getClass().getName()));
        return out;
    }

    /**
     * The ports of this process opened with {@link #open} that are still open (the first open of each
     * name), by name: for listings and metrics.
     */
    public static List<Port> openPorts() {
        List<Port> out = new ArrayList<>();
        new TreeMap<>(OPEN).forEach((k, p) -> {
            if (!p.isClosed()) {
                out.add(p);
            }
        });
        return out;
    }

    /** An open port of this process by name (options ignored), or null. */
    public static Port findOpen(String name) {
        String key = PortName.parse(name).withoutOptions();
        Port p = OPEN.get(key);
        if (p != null && p.isClosed()) {
            OPEN.remove(key, p);
            return null;
        }
        return p;
    }

    /**
     * The region of open port {@code name}, for {@code @share=name}: a new reference the caller must
     * close (a port does so at its own close).
     */
    public static Region shareRegionOf(String name) {
        Port p = findOpen(name);
        if (p == null || p.isClosed()) {
            throw new NetmapException("share=" + name + " (expected: a port open in this process; open it first)");
        }
        return p.region().retain();
    }

    /**
     * Removes {@code port} from the ports known by name in this process at once. Optional: a closed
     * port is dropped anyway at the next lookup or open; a port kind may call it from its
     * {@code close()} to let go of the object earlier.
     */
    public static void forget(Port port) {
        OPEN.remove(port.portName().withoutOptions(), port);
    }

    /** The provider serving port kind {@code kind}, or null. */
    static PortProvider provider(String kind) {
        return providers().get(kind);
    }

    private static Map<String, PortProvider> providers() {
        Map<String, PortProvider> m = providers;
        if (m == null) {
            synchronized (Netmap.class) {
                m = providers;
                if (m == null) {
                    m = load();
                    providers = m;
                }
            }
        }
        return m;
    }

    private static Map<String, PortProvider> load() {
        Map<String, PortProvider> m = new TreeMap<>();
        List<String> errors = new ArrayList<>();
        ServiceLoader<PortProvider> loader = ServiceLoader.load(PortProvider.class, Netmap.class.getClassLoader());
        var it = loader.iterator();
        while (true) {
            PortProvider p;
            try {
                if (!it.hasNext()) {
                    break;
                }
                p = it.next();
            } catch (ServiceConfigurationError e) {
                errors.add(e.getMessage());
                continue;
            }
            for (String kind : p.kinds()) {
                PortProvider prev = m.putIfAbsent(kind, p);
                if (prev != null && prev.getClass() != p.getClass()) {
                    throw new NetmapException("two modules serve \"" + kind + "\" ports: " + prev.getClass().getName()
                            + " and " + p.getClass().getName() + " (expected: one)");
                }
            }
        }
        if (m.isEmpty() && !errors.isEmpty()) {
            throw new NetmapException("no port provider could be loaded: " + errors);
        }
        return Map.copyOf(m);
    }
}
