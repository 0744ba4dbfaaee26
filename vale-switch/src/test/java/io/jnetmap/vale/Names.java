package io.jnetmap.vale;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Switch names unique on the machine: a switch is found by name from every process (the first to open
 * it hosts it), so concurrent test runs must not share names.
 */
final class Names {
    private static final AtomicInteger N = new AtomicInteger();

    private Names() {
    }

    static String unique(String prefix) {
        return prefix + ProcessHandle.current().pid() + "_" + N.incrementAndGet();
    }
}
