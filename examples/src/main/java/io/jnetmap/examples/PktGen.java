package io.jnetmap.examples;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.PortName;
import io.jnetmap.core.nic.NicPort;
import io.jnetmap.poll.WaitStrategy;
import io.jnetmap.sys.Affinity;

import io.jnetmap.examples.traffic.Counters;
import io.jnetmap.examples.traffic.Frame;
import io.jnetmap.examples.traffic.Generator;
import io.jnetmap.examples.traffic.PingPong;
import io.jnetmap.examples.traffic.Reporter;
import io.jnetmap.examples.traffic.Sink;

import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code bin/jnetmap pkt-gen}: netmap's packet generator and sink on any port name (pipes, switch
 * ports, NIC ports): {@code -f tx|rx|ping|pong|txseq|rxseq}. Prints a line per report interval and,
 * at the end, exactly one {@code Speed: <pps> pps Bandwidth: <bps> bps Average batch: <n> pkts} line.
 * Stops after {@code -n} packets or on Ctrl-C. The per-packet loops ({@link Generator}, {@link Sink},
 * {@link PingPong}) allocate nothing.
 */
@Command(name = "pkt-gen", sortOptions = false, mixinStandardHelpOptions = true,
        description = "Sends, receives or echoes test frames on a jnetmap port, as netmap's pkt-gen.",
        footer = {"", "Examples:", "  bin/jnetmap pkt-gen -i 'pipe{1' -f tx        (in one shell)",
            "  bin/jnetmap pkt-gen -i 'pipe}1' -f rx        (in another)",
            "  bin/jnetmap pkt-gen -i 'pipe}2' -f pong -n 100000 -W & bin/jnetmap pkt-gen -i 'pipe{2' -f ping -n 100000 -W"})
public final class PktGen implements Callable<Integer> {
    /** pkt-gen's functions. */
    enum Function { tx, rx, ping, pong, txseq, rxseq }

    @Option(names = "-i", required = true, paramLabel = "PORT", description = "port name (netmap syntax), e.g. pipe{1, vale0:a, netmap:eth0")
    String portName;

    @Option(names = "-f", paramLabel = "FUNC", defaultValue = "tx", description = "tx, rx, ping, pong, txseq, rxseq (default: ${DEFAULT-VALUE})")
    Function function;

    @Option(names = "-l", paramLabel = "LEN", defaultValue = "60", description = "frame length in bytes (default: ${DEFAULT-VALUE})")
    int len;

    @Option(names = "-n", paramLabel = "COUNT", defaultValue = "0", description = "packets to send, receive or answer (pong), 0 = until Ctrl-C")
    long count;

    @Option(names = "-b", paramLabel = "BURST", defaultValue = "512", description = "packets per sync (default: ${DEFAULT-VALUE})")
    int burst;

    @Option(names = "-R", paramLabel = "RATE", defaultValue = "0", description = "packets per second, 0 = as fast as possible")
    long rate;

    @Option(names = "-T", paramLabel = "REPORT_MS", defaultValue = "1000", description = "report interval in ms, 0 = none (default: ${DEFAULT-VALUE})")
    long reportMs;

    @Option(names = "-w", paramLabel = "WAIT_S", description = "seconds to wait before starting (link up); default 2 on netmap: ports, else 0")
    Integer waitS;

    @Option(names = "-a", paramLabel = "CPU", defaultValue = "-1", description = "pin the packet thread to this CPU")
    int cpu;

    @Option(names = "-W", description = "busy-wait instead of sleeping when the rings are full or empty")
    boolean busyWait;

    @Option(names = "--copy", description = "tx: write the whole frame into every buffer before sending it (default: into each buffer"
            + " once, then only the slot's length, as netmap's pkt-gen; for a receiver that writes into the buffers it releases)")
    boolean copy;

    @Option(names = "-S", paramLabel = "MAC", defaultValue = "02:00:00:00:00:01", description = "source MAC (default: ${DEFAULT-VALUE})")
    String srcMac;

    @Option(names = "-D", paramLabel = "MAC", defaultValue = "ff:ff:ff:ff:ff:ff", description = "destination MAC (default: ${DEFAULT-VALUE})")
    String dstMac;

    @Option(names = "-s", paramLabel = "IP", defaultValue = "10.0.0.1", description = "source IPv4 address (default: ${DEFAULT-VALUE})")
    String srcIp;

    @Option(names = "-d", paramLabel = "IP", defaultValue = "10.1.0.1", description = "destination IPv4 address (default: ${DEFAULT-VALUE})")
    String dstIp;

    @Spec
    CommandSpec spec;

    private PrintWriter out;

    /** Runs pkt-gen with {@code args}, printing to {@code out}; returns the exit code (0 = done, 1 = failed, 2 = usage). */
    public static int run(String[] args, PrintStream out) {
        return Cli.execute(new PktGen(), args, out, System.err);
    }

    @Override
    public Integer call() throws Exception {
        out = spec.commandLine().getOut();
        Frame frame;
        try {
            frame = checkedFrame();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        WaitStrategy wait = busyWait ? WaitStrategy.busySpin() : WaitStrategy.spinThenBlock(Duration.ofNanos(50_000));
        if (cpu >= 0) {
            Affinity.pinCurrentThread(cpu);
        }
        int waitSeconds = waitS != null ? waitS : PortName.parse(portName).kind().equals("netmap") ? 2 : 0;
        AtomicBoolean stop = new AtomicBoolean();
        // Ctrl-C: stop the loop; it prints its summary and closes the port before the JVM exits
        StopOnSignal signal = new StopOnSignal("pkt-gen-stop", () -> stop.set(true), 3);
        try (signal; Port port = Netmap.open(portName)) {
            out.printf(Locale.ROOT, "pkt-gen: %s on %s (backend %s, %d tx / %d rx rings of %d slots)%s%s%n", function, port.name(),
                    port.backend(), port.txRings(), port.rxRings(),
                    port.txRings() > 0 ? port.txRing(0).numSlots() : port.rxRing(0).numSlots(),
                    busyWait ? ", busy-wait" : "", cpu >= 0 ? ", cpu " + cpu : "");
            if (waitSeconds > 0) {
                out.printf("pkt-gen: waiting %d s before starting%n", waitSeconds);
                Thread.sleep(waitSeconds * 1000L);
            }
            return runFunction(port, frame, wait, stop);
        }
    }

    /** The options checked, and the frame they describe. */
    private Frame checkedFrame() {
        if (burst < 1 || burst > 65536) {
            throw new IllegalArgumentException("-b " + burst + " (expected: 1..65536)");
        }
        if (count < 0 || rate < 0 || reportMs < 0) {
            throw new IllegalArgumentException("-n, -R and -T must not be negative");
        }
        if (waitS != null && (waitS < 0 || waitS > 3600)) {
            throw new IllegalArgumentException("-w " + waitS + " (expected: 0..3600)");
        }
        return new Frame(len, Frame.mac(srcMac), Frame.mac(dstMac), Frame.ip(srcIp), Frame.ip(dstIp));
    }

    private int runFunction(Port port, Frame frame, WaitStrategy wait, AtomicBoolean stop) throws InterruptedException {
        Counters c = new Counters();
        boolean seq = function == Function.txseq || function == Function.rxseq;
        Reporter reporter = reportMs > 0 ? new Reporter(c, reportMs, out, function == Function.rxseq, function == Function.ping) : null;
        Histogram rtt = function == Function.ping ? new Histogram(TimeUnit.SECONDS.toNanos(10), 3) : null;
        long start = System.nanoTime();
        long end;
        try {
            if (reporter != null) {
                reporter.start();
            }
            switch (function) {
                case tx, txseq -> new Generator(port, frame, burst, seq, copy, wait).run(count, rate, c, stop);
                case rx, rxseq -> new Sink(port, seq, wait).run(count, c, stop);
                case ping -> PingPong.ping(port, frame, wait, count, c, rtt, stop);
                case pong -> PingPong.pong(port, wait, count, c, stop);
                default -> throw new IllegalStateException(function.toString());
            }
            end = System.nanoTime();
        } finally {
            if (reporter != null) {
                reporter.finish(); // no report line after the summary
            }
        }
        summary(c, rtt, start, end);
        if (port instanceof NicPort nic) {
            out.println("Kernel: " + nic.stats());
        }
        return 0;
    }

    private void summary(Counters c, Histogram rtt, long start, long end) {
        long pkts = c.packets();
        long first = c.firstNs();
        long last = c.lastNs();
        double secs = (last > first ? last - first : end - start) / 1e9;
        String verb = switch (function) {
            case tx, txseq -> "Sent";
            case rx, rxseq -> "Received";
            case ping -> "Received replies to";
            case pong -> "Answered";
        };
        out.printf(Locale.ROOT, "%s %d packets %d bytes %d batches in %.3f s%n", verb, pkts, c.bytes(), c.batches(), secs);
        if (function == Function.rxseq) {
            out.printf(Locale.ROOT, "Sequence: lost %d reordered %d other %d%n", c.lost(), c.reordered(), c.other());
        }
        if (rtt != null) {
            if (rtt.getTotalCount() > 0) {
                out.printf(Locale.ROOT, "RTT: min %d avg %.0f p50 %d p99 %d max %d ns (%d replies, %d lost)%n", rtt.getMinValue(),
                        rtt.getMean(), rtt.getValueAtPercentile(50), rtt.getValueAtPercentile(99), rtt.getMaxValue(),
                        rtt.getTotalCount(), c.lost());
            } else {
                out.printf("RTT: no replies (%d lost)%n", c.lost());
            }
        }
        double pps = secs > 0 ? pkts / secs : 0;
        double bps = secs > 0 ? c.bytes() * 8 / secs : 0;
        double batch = c.batches() > 0 ? (double) pkts / c.batches() : 0;
        out.printf(Locale.ROOT, "Speed: %.0f pps Bandwidth: %.0f bps Average batch: %.2f pkts%n", pps, bps, batch);
    }
}
