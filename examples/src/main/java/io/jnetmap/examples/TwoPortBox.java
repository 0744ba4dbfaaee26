package io.jnetmap.examples;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.PortName;
import io.jnetmap.middlebox.BatchProcessor;
import io.jnetmap.middlebox.Middlebox;
import io.jnetmap.poll.WaitStrategy;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** What the firewall and the NAT tools share: two ports, a {@link Middlebox} with one processor per direction, Ctrl-C. */
final class TwoPortBox {
    private TwoPortBox() {
    }

    /** The MAC of interface IF of a {@code netmap:IF} port name, from sysfs; null for other kinds. */
    static String macOf(String portName) {
        PortName pn = PortName.parse(portName);
        if (!pn.kind().equals("netmap")) {
            return null;
        }
        try {
            return Files.readString(Path.of("/sys/class/net", pn.parent().substring("netmap:".length()), "address")).trim();
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Opens inside and outside (the second in the first's region when both are NICs), runs a one-thread
     * middlebox until Ctrl-C, then prints {@code summary}. The inbound processor's output 1 is the outside
     * port itself (answers to the outside, as the NAT's ARP replies).
     */
    static void run(String tool, String inside, String outside, BatchProcessor outbound, BatchProcessor inbound, WaitStrategy wait,
                    int cpu, PrintWriter out, Supplier<String> summary) throws InterruptedException {
        CountDownLatch stop = new CountDownLatch(1);
        try (StopOnSignal signal = new StopOnSignal(tool + "-stop", stop::countDown, 3);
             Port in = Netmap.open(inside);
             Port ext = Bridge.openSecond(in, outside, false)) {
            Middlebox.Builder b = Middlebox.builder().name(tool).input(in, List.of(ext), outbound).input(ext, List.of(in, ext), inbound)
                    .wait(wait);
            if (cpu >= 0) {
                b.cpus(cpu);
            }
            try (Middlebox box = b.start()) {
                out.println(tool + ": inside " + in.name() + " (" + in.backend() + "), outside " + ext.name() + " (" + ext.backend()
                        + "), " + (in.sharesMemoryWith(ext) ? "zero-copy" : "copy"));
                out.flush();
                while (!stop.await(200, TimeUnit.MILLISECONDS)) {
                    if (box.failure() != null) {
                        throw new IllegalStateException("stopped: " + box.failure(), box.failure());
                    }
                }
            }
            out.println(tool + ": " + summary.get());
            out.flush();
        }
    }
}
