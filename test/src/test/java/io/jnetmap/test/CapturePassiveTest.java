package io.jnetmap.test;

import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.core.nic.NetLab;
import io.jnetmap.examples.Main;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code capture -i netmap:IF} next to tcpdump on the same interface and the same traffic: a namespace
 * pings out, and receives VLAN-tagged frames (sent raw: this kernel may have no VLAN devices). Capture sees what the host sends (requests) as
 * well as what it receives (replies), puts back the VLAN tags the kernel took off, and its kernel filter
 * reads those tags as libpcap's does ({@code vlan 10} through SKF_AD_VLAN_TAG), and the direction for
 * {@code inbound}/{@code outbound} (SKF_AD_PKTTYPE): the two files print the same lines with
 * {@code tcpdump -n -e -t -r}.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class CapturePassiveTest {
    private static final int PINGS = 5;

    private static List<String> inNs(String ns, List<String> cmd) {
        List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        c.addAll(cmd);
        return c;
    }

    private static List<String> capture(String... args) {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC", "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "capture"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static void awaitText(Process p, Path log, String text) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.readString(log).contains(text)) {
            assertTrue(p.isAlive(), "exited before \"" + text + "\": " + Files.readString(log));
            assertTrue(System.nanoTime() < deadline, "timed out waiting for \"" + text + "\": " + Files.readString(log));
            Thread.sleep(20);
        }
    }

    /** The lines tcpdump prints for {@code file}, without timestamps, with link-level headers. */
    private static List<String> lines(Path file) {
        return NetLab.run(List.of("tcpdump", "-n", "-e", "-t", "-r", file.toString())).lines()
                .filter(l -> !l.startsWith("reading from file")).toList();
    }

    /** Frames every filter takes, outside the comparison: two 100-byte pings, two UDP frames tagged 10 to port 3000. */
    private static void extraFrames(NetLab.Veth v) throws InterruptedException {
        NetLab.inNs(v.nsA(), "ping", "-c", "2", "-i", "0.2", "-s", "100", "10.77.0.2");
        try (Port tx = NetLab.open(v.nsB(), "netmap:" + v.b() + "@backend=packet")) {
            for (int i = 0; i < 2; i++) {
                send(tx, v, 10, -1);
            }
        }
        Thread.sleep(1000);
    }

    /** Lines but those of the frames sent first and last for tcpdump's sake (the 100-byte pings, port 3000). */
    private static List<String> compared(List<String> lines) {
        return lines.stream().filter(l -> !l.contains("length 108") && !l.contains(".3000") && !l.contains("port 3000")).toList();
    }

    /** A UDP frame from b to a, 10.77.VID.2:1000 > 10.77.VID.1:2000 (port 3000 if {@code seq} < 0), tagged with {@code vid} (none if negative). */
    private static void send(Port tx, NetLab.Veth v, int vid, int seq) {
        ByteBuffer f = ByteBuffer.allocate(64);
        f.put(mac(v.macA())).put(mac(v.macB()));
        if (vid >= 0) {
            f.putShort((short) 0x8100).putShort((short) vid);
        }
        int net = vid < 0 ? 0 : vid;
        f.putShort((short) 0x0800);
        int ip = f.position();
        f.put((byte) 0x45).put((byte) 0).putShort((short) 32).putShort((short) seq).putShort((short) 0)
                .put((byte) 64).put((byte) 17).putShort((short) 0)
                .put(new byte[] {10, 77, (byte) net, 2}).put(new byte[] {10, 77, (byte) net, 1});
        int sum = 0;
        for (int i = 0; i < 20; i += 2) {
            sum += f.getShort(ip + i) & 0xffff;
        }
        sum = (sum & 0xffff) + (sum >> 16);
        f.putShort(ip + 10, (short) ~((sum & 0xffff) + (sum >> 16)));
        f.putShort((short) 1000).putShort((short) (seq < 0 ? 3000 : 2000)).putShort((short) 12).putShort((short) 0).putInt(seq);
        int len = f.position();
        Ring t = tx.txRing(0);
        t.sync();
        int h = t.head();
        MemorySegment.copy(MemorySegment.ofArray(f.array()), 0, t.memory(), t.bufOffset(h), len);
        t.setSlot(h, len, 0);
        t.advanceTo(t.nextSlot(h));
        t.sync();
    }

    private static byte[] mac(String s) {
        byte[] b = new byte[6];
        String[] p = s.split(":");
        for (int i = 0; i < 6; i++) {
            b[i] = (byte) Integer.parseInt(p[i], 16);
        }
        return b;
    }

    @Test
    void seesOutgoingFramesAndStrippedVlanTagsAsTcpdumpDoes(@TempDir Path dir) throws Exception {
        try (NetLab lab = new NetLab()) {
            NetLab.Veth v = lab.vethPair();
            NetLab.inNs(v.nsA(), "ip", "addr", "add", "10.77.0.1/24", "dev", v.a());
            NetLab.inNs(v.nsB(), "ip", "addr", "add", "10.77.0.2/24", "dev", v.b());
            String[] exprs = {"icmp or udp", "vlan 10 and udp", "vlan", "outbound and icmp", "inbound and (icmp or udp)"};
            List<Process> procs = new ArrayList<>();
            try {
                for (int i = 0; i < exprs.length; i++) {
                    Path ourLog = dir.resolve("ours" + i + ".log");
                    Process ours = new ProcessBuilder(inNs(v.nsA(), capture("-i", "netmap:" + v.a(), "-w",
                            dir.resolve("ours" + i + ".pcap").toString(), exprs[i]))).redirectErrorStream(true).redirectOutput(ourLog.toFile()).start();
                    procs.add(ours);
                    awaitText(ours, ourLog, "snapshot length");
                    assertTrue(Files.readString(ourLog).contains("filter in the kernel"), Files.readString(ourLog));
                    Path tdLog = dir.resolve("tcpdump" + i + ".log");
                    Process td = new ProcessBuilder(inNs(v.nsA(), List.of("tcpdump", "-i", v.a(), "--immediate-mode", "-U", "-w",
                            dir.resolve("tcpdump" + i + ".pcap").toString(), exprs[i]))).redirectErrorStream(true).redirectOutput(tdLog.toFile()).start();
                    procs.add(td);
                    awaitText(td, tdLog, "listening on");
                }
                // libpcap filters the ring's first block in user space after setting its filter, where it has
                // no packet type ('outbound' rejects there): frames for that block first, left out as well
                extraFrames(v);
                NetLab.inNs(v.nsA(), "ping", "-c", String.valueOf(PINGS), "-i", "0.2", "10.77.0.2");
                // tagged frames into a (this kernel has no VLAN devices: sent raw from b); the receiving
                // kernel takes the tag off each before any socket sees it
                try (Port tx = NetLab.open(v.nsB(), "netmap:" + v.b() + "@backend=packet")) {
                    for (int i = 0; i < PINGS; i++) {
                        send(tx, v, 10, i);
                        send(tx, v, 20, i);
                        send(tx, v, -1, i);
                        Thread.sleep(20);
                    }
                }
                // tcpdump may leave its last frames unread at SIGTERM: frames after the ones compared, which
                // every filter takes (a 100-byte ping, a UDP frame tagged 10 to port 3000), left out of the comparison
                Thread.sleep(500);
                extraFrames(v);
                for (Process p : procs) {
                    p.destroy(); // SIGTERM: both finish their files
                }
                for (Process p : procs) {
                    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "capture stopped on SIGTERM");
                }
            } finally {
                for (Process p : procs) {
                    p.destroyForcibly();
                }
            }
            List<List<String>> all = new ArrayList<>();
            for (int i = 0; i < exprs.length; i++) {
                List<String> ours = compared(lines(dir.resolve("ours" + i + ".pcap")));
                List<String> theirs = compared(lines(dir.resolve("tcpdump" + i + ".pcap")));
                assertEquals(theirs, ours, "'" + exprs[i] + "': capture's file prints as tcpdump's\n" + Files.readString(dir.resolve("ours" + i + ".log"))
                        + "\ntcpdump: " + Files.readString(dir.resolve("tcpdump" + i + ".log")) + "\nfirst: " + String.join("\n", i > 0 ? all.get(0) : List.of()));
                all.add(ours);
            }
            String first = String.join("\n", all.get(0));
            // outgoing frames seen: the requests the namespace sent, as well as the replies
            assertEquals(PINGS, all.get(0).stream().filter(l -> l.contains("ICMP echo request")).count(), first);
            assertEquals(PINGS, all.get(0).stream().filter(l -> l.contains("ICMP echo reply")).count(), first);
            // tags put back: tcpdump -e shows them in our file as in its own
            assertEquals(PINGS, all.get(0).stream().filter(l -> l.contains("vlan 10,") && l.contains("UDP")).count(), first);
            // libpcap's live semantics: udp matches tagged frames (the kernel filter sees them untagged)
            assertEquals(3 * PINGS, all.get(0).stream().filter(l -> l.contains("UDP")).count(), first);
            assertEquals(PINGS, all.get(1).size(), String.join("\n", all.get(1)));
            assertTrue(all.get(1).stream().allMatch(l -> l.contains("vlan 10,")), String.join("\n", all.get(1)));
            assertEquals(2 * PINGS, all.get(2).size(), String.join("\n", all.get(2)));
            // the direction in the kernel filter (SKF_AD_PKTTYPE), as libpcap reads it
            assertEquals(2 * PINGS, all.get(3).size(), String.join("\n", all.get(3)));
            assertEquals(PINGS, all.get(3).stream().filter(l -> l.contains("ICMP echo request")).count(), String.join("\n", all.get(3)));
            assertEquals(PINGS, all.get(3).stream().filter(l -> l.contains("udp port 2000 unreachable")).count(), String.join("\n", all.get(3)));
            assertEquals(4 * PINGS, all.get(4).size(), String.join("\n", all.get(4)));
            assertTrue(all.get(4).stream().noneMatch(l -> l.contains("ICMP echo request")), String.join("\n", all.get(4)));
        }
    }
}
