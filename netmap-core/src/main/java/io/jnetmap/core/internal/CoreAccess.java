package io.jnetmap.core.internal;

import io.jnetmap.core.Region;
import io.jnetmap.core.Ring;
import io.jnetmap.core.spi.Kring;

/**
 * The one door from {@code io.jnetmap.core.spi} to package-private members of {@code io.jnetmap.core}
 * (the JDK's {@code SharedSecrets} idiom): the SPI binds a {@link Ring} to its {@link Kring} without
 * the user API growing a public method for it. This package is exported to no module.
 */
public final class CoreAccess {
    /** What core grants the SPI; implemented in {@link Ring}. */
    public interface Rings {
        /** The user's view of the ring at {@code offset} of {@code region}, whose {@link Ring#sync()} runs {@code kring}'s sync. */
        Ring bind(Region region, long offset, Kring kring);
    }

    private static volatile Rings rings;

    private CoreAccess() {
    }

    /** Called once, by {@link Ring}'s static initialiser. */
    public static void setRings(Rings r) {
        rings = r;
    }

    public static Rings rings() {
        Rings r = rings;
        if (r == null) {
            try {
                Class.forName(Ring.class.getName(), true, Ring.class.getClassLoader()); // runs setRings
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(e);
            }
            r = rings;
        }
        return r;
    }
}
