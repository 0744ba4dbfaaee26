package io.jnetmap.vale;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/** The switch's two concurrency helpers: VarHandles on fields, and waiting for another thread briefly. */
final class Spin {
    private Spin() {
    }

    /** A VarHandle on field {@code name} of the class {@code lookup} belongs to. */
    static VarHandle field(MethodHandles.Lookup lookup, String name, Class<?> type) {
        try {
            return lookup.findVarHandle(lookup.lookupClass(), name, type);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * One round of waiting for a thread that holds something for a handful of instructions: spin
     * first, then yield (the holder may have been preempted, on a machine with few cores).
     */
    static void pause(int round) {
        if (round < 100) {
            Thread.onSpinWait();
        } else {
            Thread.yield();
        }
    }
}
