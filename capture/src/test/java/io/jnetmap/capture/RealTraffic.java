package io.jnetmap.capture;

import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.core.nic.NetLab;

import java.lang.foreign.MemorySegment;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A trace of real traffic between two namespaces on a veth, recorded by tcpdump: ARP, ping, ping6 (with
 * neighbour discovery and MLD reports, which carry a hop-by-hop header), IPv4 and IPv6 fragments (large
 * pings), TCP connections and UDP datagrams through the host stacks, and VLAN/MPLS frames sent from a port.
 */
final class RealTraffic {
    private RealTraffic() {
    }

    private static boolean isTagged(byte[] f) {
        int type = (f[12] & 0xff) << 8 | f[13] & 0xff;
        return type == 0x8100 || type == 0x88a8 || type == 0x9100 || type == 0x8847;
    }

    static void record(Path file) throws Exception {
        Tcpdump.ensureInstalled("tcpdump", "tcpdump");
        Tcpdump.ensureInstalled("netcat-openbsd", "nc");
        try (NetLab lab = new NetLab()) {
            NetLab.Veth v = lab.vethPair();
            String a = v.nsA(), b = v.nsB();
            for (String[] side : new String[][] {{a, v.a(), "1"}, {b, v.b(), "2"}}) {
                String ns = side[0], dev = side[1], n = side[2];
                NetLab.inNs(ns, "sh", "-c", "echo 0 > /proc/sys/net/ipv6/conf/all/disable_ipv6; echo 0 > /proc/sys/net/ipv6/conf/default/disable_ipv6;"
                        + " echo 0 > /proc/sys/net/ipv6/conf/" + dev + "/disable_ipv6");
                NetLab.inNs(ns, "ip", "addr", "add", "10.9.0." + n + "/24", "dev", dev);
                NetLab.inNs(ns, "ip", "-6", "addr", "add", "fd00::" + n + "/64", "dev", dev, "nodad");
            }
            Process dump = new ProcessBuilder("ip", "netns", "exec", b, "tcpdump", "-i", v.b(), "-U", "-w", file.toString())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (!Files.exists(file) || Files.size(file) < 24) {
                    if (System.nanoTime() > deadline) throw new IllegalStateException("tcpdump did not start");
                    Thread.sleep(20);
                }
                Thread.sleep(300);
                NetLab.inNs(a, "ping", "-c", "3", "-i", "0.2", "10.9.0.2");
                NetLab.inNs(a, "ping", "-c", "2", "-i", "0.2", "-s", "3000", "10.9.0.2");
                NetLab.inNs(a, "ping", "-6", "-c", "3", "-i", "0.2", "fd00::2");
                NetLab.inNs(a, "ping", "-6", "-c", "2", "-i", "0.2", "-s", "3000", "fd00::2");
                for (String dst : List.of("10.9.0.2", "fd00::2")) {
                    String listen = dst.contains(":") ? "nc -6 -l " + dst + " 8080" : "nc -l " + dst + " 8080";
                    NetLab.inNs(b, "sh", "-c", "(timeout 3 " + listen + " > /dev/null &) ; sleep 0.3");
                    NetLab.inNs(a, "sh", "-c", "head -c 5000 /dev/zero | timeout 3 nc -N " + dst + " 8080 || true");
                    NetLab.inNs(a, "sh", "-c", "echo hello | timeout 1 nc -u -q0 " + dst + " 5353 || true");
                }
                NetLab.inNs(a, "sh", "-c", "timeout 1 nc -z 10.9.0.2 9 || true");
                // VLAN-tagged and MPLS frames (no 802.1Q module here to make a VLAN device): sent on the wire
                // from a jnetmap port, through the kernel's veth, to tcpdump
                try (Port tx = NetLab.open(a, "netmap:" + v.a() + "@backend=packet")) {
                    List<byte[]> frames = Packets.corpus().stream().filter(f -> f.length >= 60 && isTagged(f)).toList();
                    Ring t = tx.txRing(0);
                    int k = 0;
                    long sendUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                    while (k < frames.size() && System.nanoTime() < sendUntil) {
                        t.sync();
                        int h = t.head();
                        for (int n = t.space(); n > 0 && k < frames.size(); n--, k++) {
                            byte[] f = frames.get(k);
                            MemorySegment.copy(MemorySegment.ofArray(f), 0, t.memory(), t.bufOffset(h), f.length);
                            t.setSlot(h, f.length, 0);
                            h = t.nextSlot(h);
                        }
                        t.advanceTo(h);
                        t.sync();
                    }
                }
                Thread.sleep(500);
            } finally {
                dump.destroy();
                if (!dump.waitFor(10, TimeUnit.SECONDS)) dump.destroyForcibly();
            }
        }
    }
}
