package io.jnetmap.vale;

import io.jnetmap.vale.ctl.Command;
import io.jnetmap.vale.ctl.SwitchFileLayout;
import io.jnetmap.vale.ctl.ValeCtl;
import java.time.Duration;

/**
 * Run by {@link ValeCtlCrossProcessTest} in a second JVM: reads switch {@code args[0]}'s counters
 * from its file, then asks the hosting process to create a persistent port and to detach a port
 * that does not exist. Prints what it saw, one fact a line.
 */
public final class ValeCtlChild {
    private ValeCtlChild() {
    }

    public static void main(String[] args) {
        String sw = args[0];
        for (ValeCtl.SwitchInfo s : ValeCtl.find(sw)) {
            System.out.println("switch " + s.name() + " pid " + s.pid() + " lookup " + s.lookup());
            for (ValeCtl.PortInfo p : s.ports()) {
                System.out.println("port " + p.name() + " tx.packets=" + p.tx(SwitchFileLayout.TX_PACKETS) + " rx.packets="
                        + p.rx(SwitchFileLayout.RX_PACKETS) + " drop.full=" + p.tx(SwitchFileLayout.DROP_FULL) + " rx.drop.full="
                        + p.rx(SwitchFileLayout.RX_DROP_FULL));
            }
        }
        System.out.println("reply " + ValeCtl.remote(sw, Command.NEW_PORT, sw + ":vi0@conf:slots=64", Duration.ofSeconds(20)));
        try {
            ValeCtl.remote(sw, Command.DETACH, sw + ":nope", Duration.ofSeconds(20));
            System.out.println("no error");
        } catch (RuntimeException e) {
            System.out.println("error " + e.getMessage());
        }
    }
}
