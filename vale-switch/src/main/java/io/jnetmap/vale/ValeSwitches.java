package io.jnetmap.vale;

import io.jnetmap.core.NetmapException;
import io.jnetmap.core.PortName;
import io.jnetmap.core.ShmDirectory;
import io.jnetmap.vale.ctl.ValeCtl;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * The switches of this process, by name. Holds the configuration lock (netmap's NMG_LOCK): ports
 * joining and leaving, switches appearing and going; never taken while forwarding.
 *
 * <p>A switch lives in one process, its host: the first on the machine to open one of its ports (or to
 * create it). Whether a switch of that name already has a host is decided under a file lock
 * ({@code .vale.lock} in the regions' directory) while the new host's counters file appears, so two
 * processes never both become the host; other processes reach its ports through {@link io.jnetmap.vale.ctl.RemotePort}s.
 * {@code -Djnetmap.vale.remote=false} keeps every process's switches to itself.
 *
 * <pre>{@code
 * ValeSwitch sw = ValeSwitches.create("vale1", new L3Router()); // a switch with a chosen lookup module
 * Port a = Netmap.open("vale1:a");                               // ports join by name
 * AttachedPort nic = sw.attach(Netmap.open("netmap:eth0"));      // or any port, with a polling thread
 * }</pre>
 */
public final class ValeSwitches {
    /** Serialises all switch configuration of this process. */
    static final Object CONFIG = new Object();
    /** Guarded by CONFIG. */
    private static final Map<String, ValeSwitch> SWITCHES = new TreeMap<>();
    /** {@link LookupModule#name()} of the module of switches made on demand. */
    static final String DEFAULT_LOOKUP = "learning-bridge";

    private ValeSwitches() {
    }

    /**
     * Creates switch {@code name} ({@code vale} followed by letters, digits or '_') with lookup module
     * {@code lookup}. It stays, with or without ports, until {@link ValeSwitch#close()}.
     */
    public static ValeSwitch create(String name, LookupModule lookup) {
        checkName(name);
        synchronized (CONFIG) {
            if (SWITCHES.containsKey(name)) {
                throw new NetmapException.PortBusy("switch " + name + " already exists (change its module with setLookup)", null);
            }
            return underHostLock(() -> {
                refuseOtherHost(name);
                ValeSwitch sw = new ValeSwitch(name, lookup, true);
                SWITCHES.put(name, sw);
                Housekeeper.switchAdded();
                return sw;
            });
        }
    }

    /** Switch {@code name} of this process, if it exists. */
    public static Optional<ValeSwitch> get(String name) {
        synchronized (CONFIG) {
            return Optional.ofNullable(SWITCHES.get(name));
        }
    }

    /** The switches of this process, by name. */
    public static List<ValeSwitch> switches() {
        synchronized (CONFIG) {
            return new ArrayList<>(SWITCHES.values());
        }
    }

    /**
     * The switch for a port name, created (ephemeral, learning bridge) if needed; fails if another
     * process hosts a switch of that name. Under CONFIG.
     */
    static ValeSwitch getOrCreate(String name) {
        ValeSwitch sw = SWITCHES.get(name);
        if (sw == null) {
            checkName(name);
            sw = underHostLock(() -> {
                refuseOtherHost(name);
                return createLocal(name);
            });
        }
        return sw;
    }

    /** Under CONFIG and the host lock. */
    static ValeSwitch createLocal(String name) {
        ValeSwitch sw = new ValeSwitch(name, defaultLookup(), false);
        SWITCHES.put(name, sw);
        Housekeeper.switchAdded();
        return sw;
    }

    /**
     * A new instance of the lookup module of switches made on demand: the {@link LookupModule} service
     * named {@value #DEFAULT_LOOKUP} ({@code io.jnetmap.vale.lookup.LearningBridge}, registered by this
     * module). Found through {@link ServiceLoader}, so that the switch's package does not depend on
     * the package of the modules it ships.
     */
    static LookupModule defaultLookup() {
        List<String> found = new ArrayList<>();
        for (LookupModule m : ServiceLoader.load(LookupModule.class, ValeSwitches.class.getClassLoader())) {
            if (m.name().equals(DEFAULT_LOOKUP)) {
                return m;
            }
            found.add(m.name());
        }
        throw new IllegalStateException("no LookupModule service named " + DEFAULT_LOOKUP + " (found: " + found
                + "; expected: io.jnetmap.vale.lookup.LearningBridge, registered by the vale-switch module)");
    }

    /** Whether switches may be hosted by another process ({@code -Djnetmap.vale.remote}, default true). */
    static boolean remoteAllowed() {
        return Boolean.parseBoolean(System.getProperty("jnetmap.vale.remote", "true"));
    }

    /** Another live process hosting switch {@code name}, if any. */
    static Optional<ValeCtl.SwitchInfo> otherHost(String name) {
        if (!remoteAllowed()) {
            return Optional.empty();
        }
        long self = ProcessHandle.current().pid();
        return ValeCtl.find(name).stream().filter(s -> s.pid() != self).findFirst();
    }

    private static void refuseOtherHost(String name) {
        otherHost(name).ifPresent(h -> {
            throw new NetmapException.PortBusy("switch " + name + " is hosted by process " + h.pid()
                    + " (open its ports by name, or use vale-ctl, which sends requests there)", null);
        });
    }

    /** Runs {@code body} holding the machine-wide lock under which processes become hosts of switches. */
    static <T> T underHostLock(Supplier<T> body) {
        if (!remoteAllowed()) {
            return body.get();
        }
        return ShmDirectory.locked(".vale.lock", body);
    }

    /** Under CONFIG. */
    static void removed(ValeSwitch sw) {
        SWITCHES.remove(sw.name(), sw);
        Housekeeper.switchRemoved(SWITCHES.isEmpty());
    }

    static void checkName(String name) {
        if (name == null || !name.startsWith("vale") || name.length() > 31
                || !name.chars().allMatch(c -> c < 128 && (Character.isLetterOrDigit(c) || c == '_'))) {
            throw new IllegalArgumentException("switch name=" + name
                    + " (expected: \"vale\" followed by up to 27 of [A-Za-z0-9_], as in vale0:port)");
        }
    }

    /** The switch part of a port name such as {@code vale0:a} (checked to be a VALE name). */
    static PortName parseValeName(String portName) {
        PortName pn = PortName.parse(portName);
        if (pn.body() != PortName.Body.VALE) {
            throw new IllegalArgumentException("port=" + portName + " (expected: valeS:PORT)");
        }
        return pn;
    }
}
