package io.jnetmap.bench.stack;

import io.jnetmap.bench.BenchMain;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.nic.NetLab;
import io.jnetmap.core.offload.VnetHeader;
import io.jnetmap.examples.Bridge;
import io.jnetmap.sys.NetNamespace;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Suite {@code stack}: host stacks talking through jnetmap, with the kernel's default offloads (TSO,
 * GSO, TX checksum on every veth). [nsA] vA ⟷ vRA [nsR] vRB ⟷ vB [nsB]; one iperf3 TCP stream A → B
 * through the {@code bridge} tool's forwarding ({@link Bridge#run}, ports opened as the tool opens them:
 * virtio-net headers end to end) and through a Linux bridge in nsR, measured in the same run.
 *
 * <pre>
 *   RESULT stack.tcp.bridge          Gbit/s
 *   RESULT peer.linuxbridge.tcp      Gbit/s
 *   RESULT stack.tcp.bridge.vs.linuxbridge  x   (target: 0.8 or more)
 * </pre>
 */
public final class StackSuite implements BenchMain.Suite {
    private static final String IP_A = "10.78.0.1";
    private static final String IP_B = "10.78.0.2";

    @Override
    @SuppressWarnings("try")
    public void run(boolean quick, BenchMain.Results out) throws Exception {
        int seconds = quick ? 3 : 10;
        if (new ProcessBuilder("sh", "-c", "command -v iperf3").start().waitFor() != 0) {
            System.out.println("# stack: iperf3 not installed (apt-get install iperf3): suite left out");
            return;
        }
        BenchMain.ratio("stack.tcp.bridge.vs.linuxbridge", "stack.tcp.bridge", "peer.linuxbridge.tcp");
        try (NetLab lab = new NetLab()) {
            String nsA = lab.namespace();
            String nsR = lab.namespace();
            String nsB = lab.namespace();
            NetLab.Veth left = lab.vethPair(nsA, nsR);
            NetLab.Veth right = lab.vethPair(nsR, nsB);
            NetLab.inNs(nsA, "ip", "addr", "add", IP_A + "/24", "dev", left.a());
            NetLab.inNs(nsB, "ip", "addr", "add", IP_B + "/24", "dev", right.b());

            String[] names = VnetHeader.endToEnd("netmap:" + left.b(), "netmap:" + right.a());
            Port a;
            Port b;
            try (NetNamespace ignored = NetNamespace.enter(nsR)) {
                a = Netmap.open(names[0]);
                b = Bridge.openSecond(a, names[1], false);
            }
            System.out.println("# stack: bridge " + a.name() + " (" + a.backend() + ") <-> " + b.name() + " (" + b.backend() + ")");
            AtomicBoolean stop = new AtomicBoolean();
            boolean zeroCopy = a.sharesMemoryWith(b);
            Thread fwd = Thread.ofPlatform().name("stack-bridge").start(() ->
                    Bridge.run(a, b, 1024, zeroCopy, Bridge.DEFAULT_WAIT, stop::get, new Bridge.Counters()));
            try {
                out.put("stack.tcp.bridge", tcp(nsA, nsB, seconds), "Gbit/s");
            } finally {
                stop.set(true);
                fwd.join(5000);
                b.close();
                a.close();
            }

            String br = NetLab.uniqueName("br");
            NetLab.inNs(nsR, "ip", "link", "add", br, "type", "bridge", "stp_state", "0");
            try {
                NetLab.inNs(nsR, "ip", "link", "set", left.b(), "master", br);
                NetLab.inNs(nsR, "ip", "link", "set", right.a(), "master", br);
                NetLab.inNs(nsR, "ip", "link", "set", br, "up");
                out.put("peer.linuxbridge.tcp", tcp(nsA, nsB, seconds), "Gbit/s");
            } finally {
                NetLab.inNs(nsR, "ip", "link", "del", br);
            }
        }
    }

    /** One iperf3 TCP stream from nsA to nsB for {@code seconds}: the receiver's Gbit/s. */
    private static double tcp(String nsA, String nsB, int seconds) throws Exception {
        NetLab.inNs(nsA, "ping", "-c", "2", "-i", "0.2", "-W", "5", IP_B);
        Process server = new ProcessBuilder("ip", "netns", "exec", nsB, "iperf3", "-s", "-1", "-p", "5311")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!NetLab.inNs(nsB, "ss", "-ltn").contains(":5311") && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            Process c = new ProcessBuilder("ip", "netns", "exec", nsA, "iperf3", "-c", IP_B, "-p", "5311", "-t",
                    Integer.toString(seconds)).redirectErrorStream(true).start();
            c.getOutputStream().close();
            String text = new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!c.waitFor(seconds + 30L, TimeUnit.SECONDS) || c.exitValue() != 0) {
                throw new IOException("iperf3 failed:\n" + text);
            }
            Matcher m = Pattern.compile("([\\d.]+) ([GMK]?)bits/sec\\s+receiver").matcher(text);
            if (!m.find()) {
                throw new IOException("no receiver rate in iperf3's output:\n" + text);
            }
            double v = Double.parseDouble(m.group(1));
            return switch (m.group(2)) {
                case "G" -> v;
                case "M" -> v / 1e3;
                case "K" -> v / 1e6;
                default -> v / 1e9;
            };
        } finally {
            server.destroy();
            server.waitFor(5, TimeUnit.SECONDS);
        }
    }
}
