package io.jnetmap.vale;

import io.jnetmap.core.Netmap;
import io.jnetmap.poll.Pollable;
import io.jnetmap.vale.ctl.ValeCtl;
import io.jnetmap.vale.lookup.LearningBridge;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.spi.ToolProvider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The switch's three packages stay layered, as the JDK's jdeps sees the compiled classes: the lookup
 * modules depend on the switch's API, the switch on its control package, and nothing runs back
 * (the switch finds its default lookup module as a service, not by name).
 */
class PackageLayeringTest {
    private static final Pattern ARROW = Pattern.compile("(?m)^\\s+(io\\.jnetmap\\.vale[.\\w]*)\\s+->\\s+(io\\.jnetmap\\.vale[.\\w]*)\\s");

    private static Path classes(Class<?> c) throws Exception {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    @Test
    void packagesDependOnlyDownwards() throws Exception {
        ToolProvider jdeps = ToolProvider.findFirst("jdeps").orElseThrow(() -> new AssertionError("jdeps is in every JDK"));
        StringWriter out = new StringWriter();
        int code = jdeps.run(new PrintWriter(out), new PrintWriter(out), "-verbose:package", "-filter:none",
                "--module-path", String.join(java.io.File.pathSeparator, classes(Netmap.class).toString(),
                        classes(Pollable.class).toString(),
                        classes(org.jctools.queues.varhandle.MpscVarHandleArrayQueue.class).toString(), // the control queue
                        classes(org.jctools.queues.MessagePassingQueue.class).toString()),
                classes(ValeSwitch.class).toString());
        assertEquals(0, code, out.toString());
        Set<String> arrows = new TreeSet<>();
        Matcher m = ARROW.matcher(out.toString());
        while (m.find()) {
            if (!m.group(1).equals(m.group(2))) {
                arrows.add(m.group(1) + " -> " + m.group(2));
            }
        }
        assertEquals(Set.of("io.jnetmap.vale -> io.jnetmap.vale.ctl", "io.jnetmap.vale.lookup -> io.jnetmap.vale"), arrows,
                out.toString());
        assertTrue(classes(ValeCtl.class).equals(classes(LearningBridge.class)), "one module");
    }

    @Test
    void onDemandSwitchesGetTheLearningBridgeAsAService() {
        assertTrue(ValeSwitches.defaultLookup() instanceof LearningBridge);
    }
}
