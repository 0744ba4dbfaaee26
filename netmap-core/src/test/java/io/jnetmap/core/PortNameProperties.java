package io.jnetmap.core;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The parser accepts every form of the grammar and rejects mutations with the right position. */
class PortNameProperties {
    private static Arbitrary<String> word() {
        return Arbitraries.strings().withCharRange('a', 'z').withCharRange('0', '9').withChars('_').ofMinLength(1).ofMaxLength(8);
    }

    @Provide
    Arbitrary<String> validNames() {
        Arbitrary<String> nic = Combinators.combine(word(), Arbitraries.of("", "-0", "-7", "^", "^1", "*", "{p", "}q1"))
                .as((w, m) -> "netmap:" + w + m);
        Arbitrary<String> vale = Combinators.combine(Arbitraries.strings().withCharRange('0', '9').ofMaxLength(2), word(),
                Arbitraries.of("", "-1", "{3", "}3")).as((s, p, m) -> "vale" + s + ":" + p + m);
        Arbitrary<String> pipe = Combinators.combine(word(), Arbitraries.of("{", "}"), word())
                .as((w, e, id) -> (w.startsWith("vale") ? "x" + w : w) + e + id);
        Arbitrary<String> body = Arbitraries.oneOf(nic, vale, pipe);
        Arbitrary<String> flags = Arbitraries.of("", "/r", "/t", "/rt", "/z", "/x", "/R", "/T", "/xr");
        Arbitrary<String> opts = Arbitraries.of("", "@conf:slots=100", "@conf:rings=2,tx-slots=64",
                "@share=vale0:a", "@backend=packet", "@conf:extra-bufs=3@share=pipe{1");
        return Combinators.combine(body, flags, opts).as((b, f, o) -> b + f + o);
    }

    @Property(tries = 2000)
    void everyValidFormParses(@ForAll("validNames") String name) {
        PortName n = PortName.parse(name);
        assertEquals(name, n.text());
        assertTrue(name.startsWith(n.parent()) || n.body() == PortName.Body.BARE);
        assertTrue(n.withoutOptions().length() <= name.length());
        assertEquals(n, PortName.parse(name), "parsing is a function");
    }

    @Property(tries = 3000)
    void anIllegalCharacterIsReportedWhereItStands(@ForAll("validNames") String name,
                                                   @ForAll("illegal") char c,
                                                   @ForAll("fraction") double where) {
        int at = (int) Math.round(where * name.length());
        String mutated = name.substring(0, at) + c + name.substring(at);
        PortNameException e = assertThrows(PortNameException.class, () -> PortName.parse(mutated), mutated);
        assertEquals(at, e.position(), () -> mutated + " -> " + e.getMessage());
        assertTrue(e.getMessage().contains("expected"));
    }

    @Property(tries = 2000)
    void aTruncatedNameIsValidOrFailsWithinIt(@ForAll("validNames") String name, @ForAll("fraction") double where) {
        String cut = name.substring(0, (int) (where * name.length()));
        try {
            PortName.parse(cut);
        } catch (PortNameException e) {
            assertTrue(e.position() >= 0 && e.position() <= cut.length(), cut + " -> " + e.position());
        }
    }

    @Provide
    Arbitrary<Character> illegal() {
        return Arbitraries.of('!', '#', '$', '%', '&', '(', ')', '+', ';', '<', '>', '?', '[', ']', '|', '~', ' ', '"', '\'', '\\');
    }

    @Provide
    Arbitrary<Double> fraction() {
        return Arbitraries.doubles().between(0, 1);
    }
}
