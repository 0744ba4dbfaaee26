package io.jnetmap.vale;

/**
 * How {@link ValeSwitch#attach} drives a port.
 *
 * @param name          the port's name in the switch; null: derived from the port's name
 *                      ({@code netmap:eth0} becomes {@code eth0})
 * @param backPressure  the port's packets wait for room instead of being dropped
 *                      ({@link SwitchPort#setBackPressure})
 * @param closeOnDetach close the port when it is detached (the switch owns it, as with vale-ctl -a)
 * @param spin          empty polls before the polling thread sleeps on the port's descriptor (0: sleep
 *                      at once; larger: lower latency, a busier core)
 * @param cpu           CPU to pin the polling thread to, or -1
 */
public record AttachOptions(String name, boolean backPressure, boolean closeOnDetach, int spin, int cpu) {
    public AttachOptions {
        if (spin < 0) {
            throw new IllegalArgumentException("spin=" + spin + " (expected: >= 0)");
        }
        if (cpu < -1) {
            throw new IllegalArgumentException("cpu=" + cpu + " (expected: -1 or a CPU number)");
        }
    }

    /** Derived name, drop semantics, the caller keeps the port, a short spin, no pinning. */
    public static AttachOptions defaults() {
        return new AttachOptions(null, false, false, 200, -1);
    }

    public AttachOptions withName(String n) {
        return new AttachOptions(n, backPressure, closeOnDetach, spin, cpu);
    }

    public AttachOptions withBackPressure(boolean on) {
        return new AttachOptions(name, on, closeOnDetach, spin, cpu);
    }

    public AttachOptions withCloseOnDetach(boolean on) {
        return new AttachOptions(name, backPressure, on, spin, cpu);
    }

    public AttachOptions withSpin(int n) {
        return new AttachOptions(name, backPressure, closeOnDetach, n, cpu);
    }

    public AttachOptions withCpu(int c) {
        return new AttachOptions(name, backPressure, closeOnDetach, spin, c);
    }
}
