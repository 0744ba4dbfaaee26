package io.jnetmap.vale;

import io.jnetmap.vale.ctl.ValeCtl;
import io.jnetmap.core.Children;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.jnetmap.vale.Frames.mac;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Another process reads a switch's counters from its file while the switch lives here, and its
 * control requests (through the file's mailbox) are carried out here.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ValeCtlCrossProcessTest {
    @Test
    void anotherProcessReadsCountersAndSendsRequests() throws Exception {
        String name = "valexp" + ProcessHandle.current().pid();
        Path file;
        try (Port a = Netmap.open(name + ":a"); Port b = Netmap.open(name + ":b@conf:slots=8")) {
            ValeSwitch sw = ValeSwitches.get(name).orElseThrow();
            file = sw.statsFile().orElseThrow();
            Frames.send(a, Frames.BROADCAST, mac(1), 10); // b holds 7: 3 dropped
            String java = ProcessHandle.current().info().command().orElse("java");
            Process child = new ProcessBuilder(List.of(java, "--enable-native-access=ALL-UNNAMED",
                    "-cp", System.getProperty("java.class.path"), ValeCtlChild.class.getName(), name))
                    .redirectErrorStream(true).start();
            Children.Ended end = Children.finish(child, 60);
            String out = end.output();
            assertEquals(0, end.exitCode(), out);
            assertTrue(out.contains("switch " + name + " pid " + ProcessHandle.current().pid() + " lookup learning-bridge"), out);
            assertTrue(out.contains("port a tx.packets=10 rx.packets=0 drop.full=3 rx.drop.full=0"), out);
            assertTrue(out.contains("port b tx.packets=0 rx.packets=7 drop.full=0 rx.drop.full=3"), out);
            assertTrue(out.contains("reply created persistent port " + name + ":vi0"), out);
            assertTrue(out.contains("error no port \"nope\" on switch " + name), out);
            SwitchPort vi0 = sw.port("vi0").orElseThrow();
            try (Port p = Netmap.open(name + ":vi0")) {
                assertEquals(64, p.txRing(0).numSlots(), "the port the other process asked for");
            }
            SwitchAdmin.remove(name + ":vi0");
            assertEquals(-1, vi0.index());
        }
        assertFalse(Files.exists(file), "the counters file goes with the switch");
    }
}
