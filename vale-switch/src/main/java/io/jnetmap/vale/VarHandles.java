package io.jnetmap.vale;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/** VarHandles on the switch's own fields (one place for the lookup and its failure). */
final class VarHandles {
    private VarHandles() {
    }

    /** A VarHandle on field {@code name} of the class {@code lookup} belongs to. */
    static VarHandle field(MethodHandles.Lookup lookup, String name, Class<?> type) {
        try {
            return lookup.findVarHandle(lookup.lookupClass(), name, type);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
