package io.jnetmap.capture;

import java.util.List;

/** The generated corner-case frames of the equivalence tests, for the system tests (capture's test-jar). */
public final class TestCorpus {
    private TestCorpus() {
    }

    public static List<byte[]> frames() {
        return Packets.corpus();
    }
}
