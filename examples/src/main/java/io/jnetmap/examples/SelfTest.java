package io.jnetmap.examples;

import io.jnetmap.core.Janitor;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.NetmapException;
import io.jnetmap.core.Port;
import io.jnetmap.core.Region;
import io.jnetmap.core.RegionLayout;
import io.jnetmap.core.Ring;
import io.jnetmap.examples.traffic.Frame;
import io.jnetmap.pipe.PipePort;
import io.jnetmap.poll.Pollable;
import io.jnetmap.poll.Poller;
import io.jnetmap.poll.WaitStrategy;
import io.jnetmap.sys.Linux;
import io.jnetmap.vale.ValeSwitch;
import io.jnetmap.vale.ValeSwitches;
import io.jnetmap.vale.ctl.RemotePort;
import io.jnetmap.vale.ctl.ValeCtl;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * {@code bin/jnetmap selftest faults}: the fault suite. Each scenario runs live traffic, then kills a
 * participant with SIGKILL (a pipe's sender or receiver, a switch's host, a remote switch port, a NIC
 * port's owner, a capture) or lets a hostile process write random values into the rings, slots,
 * headers and bitmaps of a region it shares (a pipe with a monitor, a remote switch port). It checks
 * that the death or the damage is detected (and how fast), that what the dead held is reclaimed, that
 * sequence-checked traffic between unaffected ports goes on with no loss, that nothing in this process
 * fails other than with a {@link NetmapException} (counted as a violation found), that nothing hangs
 * and that no JVM crashed (no {@code hs_err} file). Prints one table; exits 0 only if every scenario passed.
 */
@Command(name = "selftest", mixinStandardHelpOptions = true,
        description = "Runs a self-test suite: faults (kill -9 of every kind of participant, hostile shared memory), soak (long traffic with attach/detach).",
        subcommands = {SelfTest.Faults.class, SelfTest.Soak.class, SelfTest.SoakRun.class, SelfTest.Hostile.class})
public final class SelfTest implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "no suite given (expected: faults or soak)");
    }

    /** One line of the table. */
    record Row(String scenario, long detectedMs, String reclaimed, String loss, long violations, String verdict) {
        boolean ok() {
            return verdict.equals("ok");
        }
    }

    @Command(name = "faults", mixinStandardHelpOptions = true,
            description = "kill -9 of each participant mid-transfer and hostile writes into shared regions; prints a table, exit 1 on any failure")
    static final class Faults implements Callable<Integer>, Cli.Verbose {
        @Spec
        CommandSpec spec;

        @Option(names = "-n", paramLabel = "WRITES", defaultValue = "10000", description = "random writes of each hostile process (default: ${DEFAULT-VALUE})")
        int writes;

        @Option(names = "--only", paramLabel = "TEXT", description = "run only the scenarios whose name contains TEXT")
        String only;

        @Option(names = "-v", description = "on a failure, also print its stack trace")
        boolean verbose;

        private PrintWriter out;
        private Path work;
        private final List<Process> children = new ArrayList<>();
        private final String tag = "st" + ProcessHandle.current().pid();

        @Override
        public boolean verbose() {
            return verbose;
        }

        @Override
        public Integer call() throws Exception {
            out = spec.commandLine().getOut();
            if (writes < 1 || writes > 10_000_000) {
                throw new ParameterException(spec.commandLine(), "-n " + writes + " (expected: 1..10000000)");
            }
            work = Files.createTempDirectory("jnetmap-selftest");
            out.println("selftest faults: regions in " + Region.directory() + ", child logs in " + work);
            List<Row> rows = new ArrayList<>();
            scenario(rows, "pipe sender killed", this::pipeSenderKilled);
            scenario(rows, "pipe receiver killed", this::pipeReceiverKilled);
            scenario(rows, "switch host killed", this::switchHostKilled);
            scenario(rows, "remote switch port killed", this::remotePortKilled);
            scenario(rows, "NIC port owner killed", () -> nicOwnerKilled(false));
            scenario(rows, "capture killed", () -> nicOwnerKilled(true));
            scenario(rows, "hostile writes: pipe + monitor", this::hostilePipe);
            scenario(rows, "hostile writes: remote switch port", this::hostileRemotePort);
            List<Path> crashes = new ArrayList<>();
            try (var s = Files.list(work)) {
                s.filter(p -> p.getFileName().toString().startsWith("hs_err")).forEach(crashes::add);
            }
            Table t = new Table("  ", "scenario", ">detected after (ms)", "reclaimed", ">survivors' loss", ">violations", "verdict");
            long worst = 0;
            for (Row r : rows) {
                t.row(r.scenario(), r.detectedMs() < 0 ? "-" : r.detectedMs(), r.reclaimed(), r.loss(), r.violations(), r.verdict());
                if (!r.scenario().startsWith("hostile")) {
                    worst = Math.max(worst, r.detectedMs());
                }
            }
            t.print(out);
            boolean ok = rows.stream().allMatch(Row::ok) && crashes.isEmpty();
            out.println("worst detection of a death: " + worst + " ms (hostile rows: from the first write to the first violation found);"
                    + " JVM crashes: " + (crashes.isEmpty() ? "none" : crashes));
            out.println(ok ? "selftest faults: passed" : "selftest faults: FAILED");
            return ok ? Cli.OK : Cli.FAILED;
        }

        interface Body {
            Row run() throws Exception;
        }

        /** Runs one scenario with a deadline; a hang or an unexpected exception is a failed row. */
        private void scenario(List<Row> rows, String name, Body body) {
            if (only != null && !name.contains(only)) {
                return;
            }
            AtomicReference<Row> result = new AtomicReference<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread t = Thread.ofPlatform().daemon().name("selftest " + name).start(() -> {
                try {
                    result.set(body.run());
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            try {
                t.join(TimeUnit.SECONDS.toMillis(90));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                children.forEach(Process::destroyForcibly);
                children.clear();
            }
            Row r = result.get();
            if (t.isAlive()) {
                r = new Row(name, -1, "?", "?", 0, "FAIL: hung for 90 s");
            } else if (r == null) {
                Throwable e = failure.get();
                r = new Row(name, -1, "?", "?", 0, "FAIL: " + e);
                if (verbose) {
                    e.printStackTrace(out);
                }
            }
            rows.add(new Row(name, r.detectedMs(), r.reclaimed(), r.loss(), r.violations(), r.verdict()));
            out.printf("  %-36s %s%n", name, r.verdict());
            out.flush();
        }

        // ------------------------------------------------------------------------------------------
        // scenarios

        private Row pipeSenderKilled() throws Exception {
            String parent = tag + "ps" + System.nanoTime() % 100000;
            try (Port rx = Netmap.open(parent + "}1"); Port sa = Netmap.open(parent + "{2"); Port sb = Netmap.open(parent + "}2");
                 Drain drain = new Drain(rx); Flow survivors = new Flow(sa, sb)) {
                PipePort end = (PipePort) rx;
                Process tx = child("pktgen-tx1", "pkt-gen", "-i", parent + "{1", "-f", "tx", "-T", "0", "-R", "200000");
                await("the sender's packets", () -> drain.packets() > 1000, tx);
                long killed = kill(tx);
                long ms = ms(killed, seenAt("the receiver to see its peer die", () -> end.peerDeaths() > 0));
                Process tx2 = child("pktgen-tx2", "pkt-gen", "-i", parent + "{1", "-f", "tx", "-n", "1000", "-T", "0");
                long before = drain.packets();
                boolean reclaimed = waitFor(() -> drain.packets() >= before + 1000, 30) && tx2.waitFor(30, TimeUnit.SECONDS) && tx2.exitValue() == 0;
                return survivors.finish("pipe sender killed", ms, reclaimed ? "yes (new sender attached)" : "no", end.peerFaults(),
                        ms <= 1000 && reclaimed);
            }
        }

        private Row pipeReceiverKilled() throws Exception {
            String parent = tag + "pr" + System.nanoTime() % 100000;
            try (Port tx = Netmap.open(parent + "{1"); Port sa = Netmap.open(parent + "{2"); Port sb = Netmap.open(parent + "}2");
                 Flow survivors = new Flow(sa, sb)) {
                PipePort end = (PipePort) tx;
                Process rx = child("pktgen-rx1", "pkt-gen", "-i", parent + "}1", "-f", "rx", "-T", "0");
                Pump pump = new Pump(tx);
                try (pump) {
                    await("the receiver to take packets", () -> pump.packets() > 5000, rx);
                    long killed = kill(rx);
                    long ms = ms(killed, seenAt("the sender to see its peer die", () -> end.peerDeaths() > 0));
                    Process rx2 = child("pktgen-rx2", "pkt-gen", "-i", parent + "}1", "-f", "rx", "-n", "1000", "-T", "0");
                    boolean reclaimed = rx2.waitFor(30, TimeUnit.SECONDS) && rx2.exitValue() == 0;
                    return survivors.finish("pipe receiver killed", ms, reclaimed ? "yes (new receiver attached)" : "no",
                            end.peerFaults(), ms <= 1000 && reclaimed);
                }
            }
        }

        private Row switchHostKilled() throws Exception {
            String sw = "vale" + tag + "h";
            Process host = child("host", "vale-ctl", "--host", sw);
            await("the child to host " + sw, () -> !ValeCtl.find(sw).isEmpty(), host);
            long killed;
            long ms;
            try (Port a = Netmap.open(sw + ":a@backpressure=on"); Port b = Netmap.open(sw + ":b");
                 Poller poller = new Poller(WaitStrategy.block())) {
                if (!(a instanceof RemotePort ra)) {
                    throw new IllegalStateException(a.name() + " is not a remote port: " + a.backend());
                }
                // a user asleep in a Poller on the remote port must wake up
                poller.add(b.pollable(), Pollable.IN);
                AtomicLong wokeErr = new AtomicLong();
                Thread sleeper = Thread.ofPlatform().daemon().start(() -> {
                    if (poller.poll(TimeUnit.SECONDS.toNanos(30)) > 0 && (poller.readyEvents(0) & Pollable.ERR) != 0) {
                        wokeErr.set(System.nanoTime());
                    }
                });
                Thread.sleep(200);
                killed = kill(host);
                ms = ms(killed, seenAt("the remote ports to break", () -> ra.brokenReason() != null && wokeErr.get() != 0));
                sleeper.join(5000);
                try {
                    a.txSync();
                    throw new IllegalStateException("a sync of a port whose host died succeeded");
                } catch (io.jnetmap.core.PortBrokenException expected) {
                    if (!expected.getMessage().startsWith("switch " + sw + "'s host (pid " + host.pid() + ") died")) {
                        throw new IllegalStateException("unclear message: " + expected.getMessage());
                    }
                }
            }
            // recovery: reopened, the ports reach the switch's next host (this process) and carry traffic
            try (Port a = Netmap.open(sw + ":a@backpressure=on"); Port b = Netmap.open(sw + ":b"); Flow again = new Flow(a, b)) {
                boolean reclaimed = !(a instanceof RemotePort) && ValeSwitches.get(sw).isPresent();
                Thread.sleep(500);
                return again.finish("switch host killed", ms, reclaimed ? "yes (reopened, new host)" : "no", 0,
                        ms <= 1000 && reclaimed);
            }
        }

        private Row remotePortKilled() throws Exception {
            String sw = "vale" + tag + "r";
            try (Port a = Netmap.open(sw + ":a@backpressure=on"); Port b = Netmap.open(sw + ":b"); Flow survivors = new Flow(a, b)) {
                ValeSwitch s = ValeSwitches.get(sw).orElseThrow();
                Process c = child("remote-c", "pkt-gen", "-i", sw + ":c", "-f", "tx", "-T", "0", "-R", "50000");
                await("the remote port c", () -> s.port("c").isPresent() && s.port("c").get().txCounter(0) > 1000, c);
                long killed = kill(c);
                long ms = ms(killed, seenAt("the host to reap port c", () -> s.port("c").isEmpty()));
                boolean reclaimed = s.port("c").isEmpty() && s.portList().size() == 2;
                return survivors.finish("remote switch port killed", ms, reclaimed ? "yes (port removed)" : "no", 0,
                        ms <= 1000 && reclaimed);
            }
        }

        /** A NIC port's owner (pkt-gen) or a capture on a veth in a namespace of its own, killed: its XDP program must go. */
        private Row nicOwnerKilled(boolean capture) throws Exception {
            String what = capture ? "capture killed" : "NIC port owner killed";
            if (Linux.geteuid() != 0) {
                return new Row(what, -1, "-", "-", 0, "FAIL: needs root (network namespace)");
            }
            String ns = "jnst" + ProcessHandle.current().pid() + (capture ? "c" : "n");
            String dev = "jst" + (capture ? "c" : "n") + (ProcessHandle.current().pid() % 100000);
            sh("ip", "netns", "add", ns);
            try {
                sh("ip", "-n", ns, "link", "add", dev, "type", "veth", "peer", "name", dev + "p");
                sh("ip", "-n", ns, "link", "set", dev, "up");
                sh("ip", "-n", ns, "link", "set", dev + "p", "up");
                String port = "netmap:" + dev + "@backend=xdp";
                Process owner = capture
                        ? childIn(ns, "capture", "capture", "-i", port, "-w", "/dev/null")
                        : childIn(ns, "nic-owner", "pkt-gen", "-i", port, "-f", "rx", "-T", "0", "-w", "0");
                await("an XDP program on " + dev, () -> sh("ip", "-n", ns, "-d", "link", "show", dev).contains("prog/xdp"), owner);
                long killed = kill(owner);
                long ms = ms(killed, seenAt("the XDP program to detach", () -> !sh("ip", "-n", ns, "-d", "link", "show", dev).contains("prog/xdp")));
                Thread.sleep(100);
                boolean clean = !sh("ip", "-n", ns, "-d", "link", "show", dev).contains("prog/xdp");
                return new Row(what, ms, clean ? "yes (XDP detached)" : "no", "-", 0, ms <= 1000 && clean ? "ok" : "FAIL");
            } finally {
                sh("ip", "netns", "del", ns);
            }
        }

        private Row hostilePipe() throws Exception {
            String parent = tag + "hp" + System.nanoTime() % 100000;
            String safe = tag + "hs" + System.nanoTime() % 100000;
            long faultsBefore = PipePort.totalPeerFaults();
            try (Port sa = Netmap.open(safe + "{1"); Port sb = Netmap.open(safe + "}1"); Flow survivors = new Flow(sa, sb)) {
                Port va = Netmap.open(parent + "{1");
                Port vb = Netmap.open(parent + "}1");
                Port mon = Netmap.open(parent + "}1/r");
                Victim victim = new Victim(List.of(va, vb, mon));
                await("the victims' traffic", () -> victim.packets() > 1000, null);
                Process h = child("hostile-pipe", "selftest", "hostile", Region.directory().resolve("pipe." + parent).toString(),
                        String.valueOf(writes), "1");
                long start = writingSince("hostile-pipe", h);
                boolean done = h.waitFor(60, TimeUnit.SECONDS);
                Thread.sleep(300);
                String crash = victim.stop();
                long violations = victim.violations() + PipePort.totalPeerFaults() - faultsBefore;
                // the region's users table may be overwritten too: what close could not remove, the janitor does
                Path file = Region.directory().resolve("pipe." + parent);
                boolean reclaimed = !Files.exists(file) || Janitor.sweep().removed().contains(file.getFileName().toString());
                String v = !done ? "FAIL: hostile process did not finish" : crash != null ? "FAIL: " + crash
                        : violations == 0 ? "FAIL: no violation detected" : "ok";
                Row r = survivors.finish("hostile writes: pipe + monitor", victim.firstViolationMs(start),
                        reclaimed ? "yes (region removed)" : "no (region file left)", violations, v.equals("ok") && reclaimed);
                return v.equals("ok") ? r : new Row(r.scenario(), r.detectedMs(), r.reclaimed(), r.loss(), r.violations(), v);
            }
        }

        private Row hostileRemotePort() throws Exception {
            String sw = "vale" + tag + "x";
            long faultsBefore = PipePort.totalPeerFaults();
            try (Port a = Netmap.open(sw + ":a@backpressure=on"); Port b = Netmap.open(sw + ":b"); Flow survivors = new Flow(a, b)) {
                ValeSwitch s = ValeSwitches.get(sw).orElseThrow();
                Process c = child("hostile-remote-c", "pkt-gen", "-i", sw + ":c", "-f", "tx", "-T", "0", "-R", "50000");
                await("the remote port c", () -> s.port("c").isPresent() && s.port("c").get().txCounter(0) > 1000, c);
                Path region = Region.directory().resolve("pipe.valep" + c.pid() + "x1");
                Process h = child("hostile-remote", "selftest", "hostile", region.toString(), String.valueOf(writes), "2");
                long start = writingSince("hostile-remote", h);
                long seen = seenAt("the host to cut port c off", () -> PipePort.totalPeerFaults() > faultsBefore || s.port("c").isEmpty());
                boolean done = h.waitFor(60, TimeUnit.SECONDS);
                c.destroyForcibly();
                c.waitFor(10, TimeUnit.SECONDS);
                boolean reclaimed = waitFor(() -> s.port("c").isEmpty(), 5);
                String log = Files.readString(work.resolve("hostile-remote-c.log"));
                // found by the host's end of the pipe, and by the remote port's process (its one-line error)
                long violations = PipePort.totalPeerFaults() - faultsBefore
                        + log.lines().filter(l -> l.startsWith("pkt-gen: ") && !l.startsWith("pkt-gen: tx on")).count();
                String v = !done ? "FAIL: hostile process did not finish" : log.contains("\tat ") ? "FAIL: stack trace in pkt-gen's output" : "ok";
                Row r = survivors.finish("hostile writes: remote switch port", ms(start, seen), reclaimed ? "yes (port removed)" : "no",
                        violations, reclaimed);
                return v.equals("ok") ? r : new Row(r.scenario(), r.detectedMs(), r.reclaimed(), r.loss(), r.violations(), v);
            }
        }

        // ------------------------------------------------------------------------------------------
        // helpers

        /** System.nanoTime() when hostile process {@code h} (log {@code logName}) said it starts writing. */
        private long writingSince(String logName, Process h) throws IOException {
            Path log = work.resolve(logName + ".log");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.readString(log).contains("hostile: writing")) {
                if (!h.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("the hostile process did not start: " + Files.readString(log));
                }
                LockSupport.parkNanos(200_000);
            }
            return System.nanoTime();
        }

        private Process child(String logName, String... args) throws IOException {
            return start(logName, List.of(), args);
        }

        private Process childIn(String ns, String logName, String... args) throws IOException {
            return start(logName, List.of("ip", "netns", "exec", ns), args);
        }

        private Process start(String logName, List<String> prefix, String... args) throws IOException {
            List<String> cmd = new ArrayList<>(prefix);
            cmd.addAll(List.of(ProcessHandle.current().info().command().orElse("java"), "--enable-native-access=ALL-UNNAMED",
                    "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:ErrorFile=" + work.resolve("hs_err_pid%p.log"),
                    "-cp", System.getProperty("java.class.path"), Main.class.getName()));
            cmd.addAll(List.of(args));
            Process p = new ProcessBuilder(cmd).directory(work.toFile()).redirectErrorStream(true)
                    .redirectOutput(work.resolve(logName + ".log").toFile()).start();
            children.add(p);
            return p;
        }

        /** SIGKILL; returns System.nanoTime() of the kill. */
        private static long kill(Process p) {
            long t = System.nanoTime();
            p.destroyForcibly();
            return t;
        }

        private static long ms(long since, long untilNanos) {
            return TimeUnit.NANOSECONDS.toMillis(untilNanos - since);
        }

        /** Waits (up to 5 s, polling every 0.5 ms) until {@code c} holds; returns System.nanoTime() then. */
        private static long seenAt(String what, BooleanSupplier c) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (!c.getAsBoolean()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("not detected within 5 s: " + what);
                }
                LockSupport.parkNanos(500_000);
            }
            return System.nanoTime();
        }

        private void await(String what, BooleanSupplier c, Process child) throws IOException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!c.getAsBoolean()) {
                if (child != null && !child.isAlive()) {
                    throw new IllegalStateException("the child died before " + what + ": " + lastLines(child));
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("timed out waiting for " + what);
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
            }
        }

        private String lastLines(Process child) {
            return "exit " + child.exitValue() + " (its log is in " + work + ")";
        }

        private static boolean waitFor(BooleanSupplier c, int seconds) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (!c.getAsBoolean()) {
                if (System.nanoTime() > deadline) {
                    return false;
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
            }
            return true;
        }

        static String sh(String... cmd) {
            try {
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
                String s = new String(p.getInputStream().readAllBytes());
                p.waitFor(10, TimeUnit.SECONDS);
                return s;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    // ----------------------------------------------------------------------------------------------
    // traffic

    private static final byte[] FLOW_SRC = Frame.mac("02:00:00:00:5e:01");
    private static final byte[] FLOW_DST = Frame.mac("02:00:00:00:5e:02");

    /** True for a frame of a {@link Flow} (source MAC and pkt-gen's layout). */
    private static boolean flowFrame(MemorySegment m, long off, int len) {
        if (!Frame.isOurs(m, off, len)) {
            return false;
        }
        for (int i = 0; i < 6; i++) {
            if (m.get(java.lang.foreign.ValueLayout.JAVA_BYTE, off + 6 + i) != FLOW_SRC[i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * Sequence-checked traffic from port {@code tx} to port {@code rx} of this process, each synced by a
     * thread of its own, with back-pressure (a sender that finds no room waits): every packet sent must
     * arrive, in order. Frames that are not the flow's (a switch floods others' broadcasts) are ignored.
     */
    static final class Flow implements AutoCloseable {
        private final Port tx;
        private final Port rx;
        private final AtomicBoolean stopSending = new AtomicBoolean();
        private final AtomicBoolean stopReceiving = new AtomicBoolean();
        private final AtomicLong sent = new AtomicLong();
        private final AtomicLong received = new AtomicLong();
        private final AtomicLong lost = new AtomicLong();
        private final AtomicLong reordered = new AtomicLong();
        private final AtomicReference<Throwable> failure = new AtomicReference<>();
        private final Thread sender;
        private final Thread receiver;

        Flow(Port tx, Port rx) {
            this.tx = tx;
            this.rx = rx;
            Frame f = new Frame(60, FLOW_SRC, FLOW_DST, Frame.ip("10.0.0.1"), Frame.ip("10.0.0.2"));
            this.receiver = Thread.ofPlatform().daemon().name("flow-rx " + rx.name()).start(this::receive);
            this.sender = Thread.ofPlatform().daemon().name("flow-tx " + tx.name()).start(() -> send(f));
        }

        private void send(Frame f) {
            try (Poller poller = new Poller(WaitStrategy.block())) {
                poller.add(tx.pollable(), Pollable.OUT);
                Ring t = tx.txRing(0);
                long seq = 0;
                while (!stopSending.get()) {
                    int n = Math.min(t.space(), 64);
                    if (n == 0) {
                        poller.poll(TimeUnit.MILLISECONDS.toNanos(10));
                        continue;
                    }
                    int i = t.head();
                    MemorySegment m = t.memory();
                    for (int k = 0; k < n; k++) {
                        long off = t.bufOffset(i);
                        f.writeTo(m, off);
                        Frame.writeSeq(m, off, seq++);
                        t.setSlot(i, 60, 0);
                        i = t.nextSlot(i);
                    }
                    t.advanceTo(i);
                    t.sync();
                    sent.addAndGet(n);
                    LockSupport.parkNanos(20_000); // ~3 Mpps at most: leave the cores to the scenario
                }
                // flush: wait until the backend took everything
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
                while (t.space() < t.numSlots() - 1 && System.nanoTime() < deadline) {
                    t.sync();
                    LockSupport.parkNanos(1_000_000);
                }
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            }
        }

        private void receive() {
            try (Poller poller = new Poller(WaitStrategy.block())) {
                poller.add(rx.pollable(), Pollable.IN);
                Ring r = rx.rxRing(0);
                long expect = 0;
                while (!stopReceiving.get()) {
                    r.sync();
                    int h = r.head();
                    if (h == r.tail()) {
                        poller.poll(TimeUnit.MILLISECONDS.toNanos(10));
                        continue;
                    }
                    MemorySegment m = r.memory();
                    long got = 0;
                    while (h != r.tail()) {
                        long off = r.bufOffset(h);
                        if (flowFrame(m, off, r.len(h))) {
                            long s = Frame.readSeq(m, off);
                            if (s == expect) {
                                expect++;
                            } else if (s > expect) {
                                lost.addAndGet(s - expect);
                                expect = s + 1;
                            } else {
                                reordered.incrementAndGet();
                            }
                            got++;
                        }
                        h = r.nextSlot(h);
                    }
                    r.advanceTo(h);
                    received.addAndGet(got);
                }
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            }
        }

        /** Stops sending, waits for the rest to arrive; the row of scenario {@code name}. */
        Row finish(String name, long detectedMs, String reclaimed, long violations, boolean ok) throws InterruptedException {
            stopSending.set(true);
            sender.join(10_000);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (received.get() + lost.get() < sent.get() && System.nanoTime() < deadline && failure.get() == null) {
                Thread.sleep(5);
            }
            stopReceiving.set(true);
            receiver.join(10_000);
            long missing = sent.get() - received.get();
            String loss = missing + " of " + sent.get() + (reordered.get() > 0 ? ", " + reordered.get() + " reordered" : "");
            String verdict;
            if (failure.get() != null) {
                verdict = "FAIL: survivors' traffic failed: " + failure.get();
            } else if (sent.get() == 0) {
                verdict = "FAIL: survivors sent nothing";
            } else if (missing != 0 || lost.get() != 0 || reordered.get() != 0) {
                verdict = "FAIL: survivors lost packets";
            } else {
                verdict = ok ? "ok" : "FAIL";
            }
            return new Row(name, detectedMs, reclaimed, loss, violations, verdict);
        }

        @Override
        public void close() throws InterruptedException {
            stopSending.set(true);
            stopReceiving.set(true);
            sender.join(10_000);
            receiver.join(10_000);
        }
    }

    /** Receives everything on {@code port} in a thread of its own (the surviving end of a pipe whose sender dies). */
    static final class Drain implements AutoCloseable {
        private final AtomicBoolean stop = new AtomicBoolean();
        private final AtomicLong packets = new AtomicLong();
        private final Thread thread;

        Drain(Port port) {
            thread = Thread.ofPlatform().daemon().name("drain " + port.name()).start(() -> {
                try (Poller poller = new Poller(WaitStrategy.block())) {
                    poller.add(port.pollable(), Pollable.IN);
                    Ring r = port.rxRing(0);
                    while (!stop.get()) {
                        r.sync();
                        int n = r.space();
                        if (n == 0) {
                            poller.poll(TimeUnit.MILLISECONDS.toNanos(10));
                            continue;
                        }
                        r.advanceTo(r.tail());
                        packets.addAndGet(n);
                    }
                }
            });
        }

        long packets() {
            return packets.get();
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            thread.join(10_000);
        }
    }

    /** Sends on {@code port} in a thread of its own, as fast as the receiver takes (the surviving end of a pipe whose receiver dies). */
    static final class Pump implements AutoCloseable {
        private final AtomicBoolean stop = new AtomicBoolean();
        private final AtomicLong packets = new AtomicLong();
        private final Thread thread;

        Pump(Port port) {
            Frame f = Frame.standard(60);
            thread = Thread.ofPlatform().daemon().name("pump " + port.name()).start(() -> {
                try (Poller poller = new Poller(WaitStrategy.block())) {
                    poller.add(port.pollable(), Pollable.OUT);
                    Ring t = port.txRing(0);
                    while (!stop.get()) {
                        int n = t.space();
                        if (n == 0) {
                            poller.poll(TimeUnit.MILLISECONDS.toNanos(10));
                            continue;
                        }
                        int i = t.head();
                        for (int k = 0; k < n; k++) {
                            f.writeTo(t.memory(), t.bufOffset(i));
                            t.setSlot(i, 60, 0);
                            i = t.nextSlot(i);
                        }
                        t.advanceTo(i);
                        t.sync();
                        packets.addAndGet(n);
                    }
                }
            });
        }

        long packets() {
            return packets.get();
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            thread.join(10_000);
        }
    }

    /**
     * Traffic through ports whose region a hostile process overwrites: a pipe's two ends and a monitor
     * of one, each driven by a thread of its own. A {@link NetmapException} is a violation found (the
     * port is then closed, as a user would); anything else is a crash of the library.
     */
    static final class Victim {
        private final AtomicBoolean stop = new AtomicBoolean();
        private final AtomicLong packets = new AtomicLong();
        private final AtomicLong violations = new AtomicLong();
        private final AtomicLong firstViolation = new AtomicLong();
        private final AtomicReference<String> crash = new AtomicReference<>();
        private final List<Thread> threads = new ArrayList<>();

        Victim(List<Port> ports) {
            Frame f = Frame.standard(60);
            for (Port p : ports) {
                threads.add(Thread.ofPlatform().daemon().name("victim " + p.name()).start(() -> drive(p, f)));
            }
        }

        private void drive(Port p, Frame f) {
            try (p; Poller poller = new Poller(WaitStrategy.block())) {
                poller.add(p.pollable(), (p.txRings() > 0 ? Pollable.OUT : 0) | (p.rxRings() > 0 ? Pollable.IN : 0));
                while (!stop.get()) {
                    int did = 0;
                    if (p.txRings() > 0) {
                        Ring t = p.txRing(0);
                        int i = t.head();
                        for (int n = Math.min(t.space(), 32); n > 0; n--) {
                            f.writeTo(t.memory(), t.bufOffset(i));
                            t.setSlot(i, 60, 0);
                            i = t.nextSlot(i);
                            did++;
                        }
                        t.advanceTo(i);
                        t.sync();
                    }
                    if (p.rxRings() > 0) {
                        Ring r = p.rxRing(0);
                        r.sync();
                        for (int h = r.head(); h != r.tail(); h = r.nextSlot(h)) {
                            r.bufOffset(h);
                            did++;
                        }
                        r.advanceTo(r.tail());
                    }
                    packets.addAndGet(did);
                    if (did == 0 && (poller.poll(TimeUnit.MILLISECONDS.toNanos(10)) > 0 && (poller.readyEvents(0) & Pollable.ERR) != 0)) {
                        // the port reports ERR: its next sync says why
                        if (p.txRings() > 0) {
                            p.txSync();
                        } else {
                            p.rxSync();
                        }
                    }
                    LockSupport.parkNanos(50_000);
                }
            } catch (NetmapException e) {
                violations.incrementAndGet();
                firstViolation.compareAndSet(0, System.nanoTime());
            } catch (Throwable e) {
                crash.compareAndSet(null, Thread.currentThread().getName() + ": " + e);
            }
        }

        long packets() {
            return packets.get();
        }

        long violations() {
            return violations.get();
        }

        long firstViolationMs(long since) {
            long t = firstViolation.get();
            return t == 0 ? -1 : TimeUnit.NANOSECONDS.toMillis(t - since);
        }

        /** Stops the threads (they close their ports); returns a crash, or null. */
        String stop() throws InterruptedException {
            stop.set(true);
            for (Thread t : threads) {
                t.join(10_000);
                if (t.isAlive()) {
                    return t.getName() + " hung";
                }
            }
            return crash.get();
        }
    }

    // ----------------------------------------------------------------------------------------------
    // the soak

    /**
     * {@code selftest soak [-t SECONDS]}: runs {@link SoakRun} in a child JVM with a fixed, pre-touched
     * heap and samples the child's anonymous resident memory every second. After the warm-up (a quarter
     * of the run, at least 30 s: the JIT's compiles and the C library's arenas settle) and until the traffic stops, the samples fall into 10 s windows (five
     * attach/detach cycles each, so every window holds samples with the churned ports open and closed);
     * each window's floor and peak must stay within ±5 % of the first window's floor and peak (a leak
     * raises the floor; a sample taken while a cycle's ports are open is compared with its like). The child
     * checks the traffic: 0 loss on the pipe and the switch (back-pressure), and the switch's counters
     * conserve exactly.
     */
    @Command(name = "soak", mixinStandardHelpOptions = true,
            description = "pipe, switch (and, as root, NIC) traffic with ports attached and detached every 2 s and counters read; RSS must stay flat")
    static final class Soak implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "-t", paramLabel = "SECONDS", defaultValue = "90", description = "duration (default: ${DEFAULT-VALUE}; 600 for the full soak)")
        int seconds;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            if (seconds < 60 || seconds > 86_400) {
                throw new ParameterException(spec.commandLine(), "-t " + seconds + " (expected: 60..86400)");
            }
            Path work = Files.createTempDirectory("jnetmap-soak");
            boolean root = Linux.geteuid() == 0;
            String ns = "jnsoak" + ProcessHandle.current().pid();
            List<String> cmd = new ArrayList<>();
            if (root) {
                Faults.sh("ip", "netns", "add", ns);
                Faults.sh("ip", "-n", ns, "link", "add", "soaka", "type", "veth", "peer", "name", "soakb");
                Faults.sh("ip", "-n", ns, "link", "set", "soaka", "up");
                Faults.sh("ip", "-n", ns, "link", "set", "soakb", "up");
                cmd.addAll(List.of("ip", "netns", "exec", ns));
            }
            cmd.addAll(List.of(ProcessHandle.current().info().command().orElse("java"), "--enable-native-access=ALL-UNNAMED",
                    "-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch", "-XX:+UseSerialGC", "-XX:ErrorFile=" + work.resolve("hs_err_pid%p.log"),
                    "-cp", System.getProperty("java.class.path"), Main.class.getName(), "selftest", "soak-run", String.valueOf(seconds),
                    root ? "soaka,soakb" : "-"));
            Process child = new ProcessBuilder(cmd).directory(work.toFile()).redirectErrorStream(true)
                    .redirectOutput(work.resolve("soak.log").toFile()).start();
            try {
                long warm = Math.max(30, seconds / 4);
                RssWindows windows = new RssWindows(warm, seconds);
                long start = System.nanoTime();
                long pid = child.pid();
                StringBuilder series = new StringBuilder();
                // under ip netns exec, the JVM is the child of the exec'd ip or the same process: find the java one
                while (child.isAlive()) {
                    Thread.sleep(1000);
                    long t = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
                    long anon = rssAnonKb(javaPid(pid));
                    if (t % 5 == 0) {
                        series.append(' ').append(t).append("s:").append(anon / 1024).append("M");
                    }
                    windows.add(t, anon);
                    if (t > seconds + 120) {
                        child.destroyForcibly();
                        out.println("soak: the child did not finish");
                        return Cli.FAILED;
                    }
                }
                String log = Files.readString(work.resolve("soak.log"));
                log.lines().forEach(l -> out.println("  " + l));
                out.println("  RssAnon every 5 s:" + series);
                double drift = windows.drift();
                boolean rssOk = drift <= 5; // (false for NaN: no sample after the warm-up)
                out.printf(java.util.Locale.ROOT, "RESULT soak.rss.anon.drift %.2f %% (floor..peak kB per 10 s after %d s warm-up: %s)%n",
                        drift, warm, windows);
                boolean crashed;
                try (var st = Files.list(work)) {
                    crashed = st.anyMatch(f -> f.getFileName().toString().startsWith("hs_err"));
                }
                boolean ok = child.exitValue() == 0 && log.contains("soak-run: passed") && rssOk && !crashed;
                out.println(ok ? "selftest soak: passed" : "selftest soak: FAILED" + (rssOk ? "" : " (RSS not flat)") + (crashed ? " (JVM crash)" : ""));
                return ok ? Cli.OK : Cli.FAILED;
            } finally {
                child.destroyForcibly();
                if (root) {
                    Faults.sh("ip", "netns", "del", ns);
                }
            }
        }

        /** The java process itself: {@code pid}, or its only descendant running java. */
        private static long javaPid(long pid) {
            return ProcessHandle.of(pid).stream().flatMap(h -> Stream.concat(Stream.of(h), h.descendants()))
                    .filter(h -> h.info().command().map(c -> c.endsWith("/java")).orElse(false))
                    .mapToLong(ProcessHandle::pid).findFirst().orElse(pid);
        }

        private static long rssAnonKb(long pid) {
            try {
                for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                    if (l.startsWith("RssAnon:")) {
                        return Long.parseLong(l.replaceAll("[^0-9]", ""));
                    }
                }
            } catch (IOException | NumberFormatException e) {
                return 0;
            }
            return 0;
        }
    }

    /**
     * The soak's memory verdict: samples after the warm-up and before the end of the traffic fall into 10 s
     * windows; {@link #drift()} is the largest distance, in per cent, of a window's floor or peak from the
     * first window's (NaN without a whole window). Floors compare with floors so that ports open at one
     * sample and closed at the next do not read as growth; a leak raises every later floor.
     */
    public static final class RssWindows {
        private final long warm;
        private final long end;
        private final List<long[]> windows = new ArrayList<>(); // {floor, peak, samples}

        public RssWindows(long warmSeconds, long endSeconds) {
            this.warm = warmSeconds;
            this.end = endSeconds;
        }

        /** One sample: {@code kb} of anonymous resident memory {@code t} seconds into the run. */
        public void add(long t, long kb) {
            if (t < warm || t >= end || kb <= 0) { // (not while the child closes its ports at the end)
                return;
            }
            int w = (int) ((t - warm) / 10);
            while (windows.size() <= w) {
                windows.add(new long[] {Long.MAX_VALUE, 0, 0});
            }
            long[] win = windows.get(w);
            win[0] = Math.min(win[0], kb);
            win[1] = Math.max(win[1], kb);
            win[2]++;
        }

        private List<long[]> whole() {
            return windows.stream().filter(win -> win[2] >= 5).toList(); // a window cut short by the end has too few
        }

        public double drift() {
            List<long[]> ws = whole();
            if (ws.isEmpty()) {
                return Double.NaN;
            }
            long[] first = ws.getFirst();
            double d = 0;
            for (long[] win : ws) {
                d = Math.max(d, 100.0 * Math.abs(win[0] - first[0]) / first[0]);
                d = Math.max(d, 100.0 * Math.abs(win[1] - first[1]) / first[1]);
            }
            return d;
        }

        @Override
        public String toString() {
            StringBuilder b = new StringBuilder();
            for (long[] win : whole()) {
                b.append(b.isEmpty() ? "" : " ").append(win[0]).append("..").append(win[1]);
            }
            return b.toString();
        }
    }

    /** The soak's traffic, in the child JVM: {@code selftest soak-run SECONDS NICS} (NICS: {@code A,B} veth ends, or {@code -}). */
    @Command(name = "soak-run", hidden = true)
    static final class SoakRun implements Callable<Integer> {
        @Parameters(index = "0")
        int seconds;

        @Parameters(index = "1")
        String nics;

        @Override
        public Integer call() throws Exception {
            String tag = "soak" + ProcessHandle.current().pid();
            String sw = "vale" + tag;
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong cycles = new AtomicLong();
            AtomicLong reads = new AtomicLong();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            try (Port pa = Netmap.open(tag + "{1"); Port pb = Netmap.open(tag + "}1");
                 Port a = Netmap.open(sw + ":a@backpressure=on"); Port b = Netmap.open(sw + ":b")) {
                learn(b);
                Flow pipe = new Flow(pa, pb);
                Flow vale = new Flow(a, b);
                Port na = null;
                Port nb = null;
                Flow nic = null;
                if (!nics.equals("-")) {
                    String[] ab = nics.split(",");
                    na = Netmap.open("netmap:" + ab[0]);
                    nb = Netmap.open("netmap:" + ab[1]);
                    nic = new Flow(na, nb);
                }
                // attach/detach every 2 s: a switch port, a pipe pair, a pipe end attached to the switch
                Thread churn = Thread.ofPlatform().daemon().name("soak churn").start(() -> {
                    try {
                        ValeSwitch s = ValeSwitches.get(sw).orElseThrow();
                        for (long i = 0; !stop.get(); i++) {
                            try (Port c = Netmap.open(sw + ":c" + (i % 4)); Port x = Netmap.open(tag + "x{" + (i % 2));
                                 Port y = Netmap.open(tag + "x}" + (i % 2))) {
                                var attached = s.attach(y);
                                Thread.sleep(1000);
                                s.detach(attached.name());
                            }
                            cycles.incrementAndGet();
                            Thread.sleep(1000);
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                });
                Thread reader = Thread.ofPlatform().daemon().name("soak vale-ctl").start(() -> {
                    PrintWriter sink = new PrintWriter(java.io.Writer.nullWriter());
                    while (!stop.get()) {
                        ValeCtlTool.list(ValeCtl.find(sw), null, sink);
                        reads.incrementAndGet();
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(250));
                    }
                });
                Thread.sleep(TimeUnit.SECONDS.toMillis(seconds));
                stop.set(true);
                churn.join(10_000);
                reader.join(10_000);
                Row rp = pipe.finish("pipe", 0, "-", 0, true);
                Row rv = vale.finish("switch", 0, "-", 0, true);
                ValeSwitch s = ValeSwitches.get(sw).orElseThrow();
                var sa = s.port("a").orElseThrow();
                var sb = s.port("b").orElseThrow();
                long sent = vale.sent.get();
                boolean conserve = sa.txCounter(io.jnetmap.vale.ctl.SwitchFileLayout.TX_PACKETS) == sent
                        && sb.rxCounter(io.jnetmap.vale.ctl.SwitchFileLayout.RX_PACKETS) == vale.received.get()
                        && sa.drops() == 0 && sb.txCounter(io.jnetmap.vale.ctl.SwitchFileLayout.TX_PACKETS) == 1
                        && sa.rxCounter(io.jnetmap.vale.ctl.SwitchFileLayout.RX_PACKETS) == 1;
                System.out.println("soak-run: " + seconds + " s, " + cycles.get() + " attach/detach cycles, " + reads.get() + " counter reads");
                System.out.println("soak-run: pipe " + rp.loss() + " lost (" + rp.verdict() + ")");
                System.out.println("soak-run: switch " + rv.loss() + " lost (" + rv.verdict() + "); counters: a sent "
                        + sa.txCounter(io.jnetmap.vale.ctl.SwitchFileLayout.TX_PACKETS) + ", b received "
                        + sb.rxCounter(io.jnetmap.vale.ctl.SwitchFileLayout.RX_PACKETS) + ", drops " + sa.drops()
                        + (conserve ? ", conserved exactly" : ", NOT conserved"));
                boolean nicOk = true;
                if (nic != null) {
                    Row rn = nic.finish("nic", 0, "-", 0, true);
                    // no back-pressure on a wire: the NIC row reports its loss; a failure of its threads fails the soak
                    nicOk = !rn.verdict().contains("failed") && nic.sent.get() > 0;
                    System.out.println("soak-run: NIC " + rn.loss() + " lost (AF_XDP on a veth pair, no back-pressure)");
                    na.close();
                    nb.close();
                }
                boolean ok = failure.get() == null && rp.ok() && rv.ok() && conserve && nicOk && cycles.get() > 0;
                if (failure.get() != null) {
                    System.out.println("soak-run: churn failed: " + failure.get());
                }
                System.out.println(ok ? "soak-run: passed" : "soak-run: FAILED");
                return ok ? Cli.OK : Cli.FAILED;
            }
        }

        /** One frame from {@code b}'s flow address, so that the switch learns where it is (a's flow is then unicast). */
        private static void learn(Port b) {
            Frame f = new Frame(60, FLOW_DST, Frame.mac("ff:ff:ff:ff:ff:ff"), Frame.ip("10.0.0.2"), Frame.ip("10.0.0.1"));
            Ring t = b.txRing(0);
            int i = t.head();
            f.writeTo(t.memory(), t.bufOffset(i));
            t.setSlot(i, 60, 0);
            t.advanceTo(t.nextSlot(i));
            t.sync();
        }
    }

    // ----------------------------------------------------------------------------------------------
    // the hostile process

    /**
     * {@code selftest hostile FILE WRITES SEED} (used by the suite): maps region file FILE and writes
     * WRITES random 32-bit values, over about two seconds, at random places of its header, bitmaps,
     * interface descriptors, rings and slots (not into packet buffers): half of them plausible
     * (buffer indices and ring positions just out of range, pids), half anything.
     */
    @Command(name = "hostile", hidden = true, description = "writes random values into a region's metadata (for selftest faults)")
    static final class Hostile implements Callable<Integer> {
        @Parameters(index = "0")
        Path file;

        @Parameters(index = "1")
        int writes;

        @Parameters(index = "2")
        long seed;

        @Override
        public Integer call() throws IOException {
            try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                MemorySegment m = ch.map(FileChannel.MapMode.READ_WRITE, 0, ch.size(), arena);
                long bufPool = m.get(JAVA_LONG, RegionLayout.BUF_POOL_OFS_OFFSET);
                long ringPool = m.get(JAVA_LONG, RegionLayout.RING_POOL_OFS_OFFSET);
                int numBufs = m.get(JAVA_INT, RegionLayout.BUF_NUM_OFFSET);
                if (bufPool <= 0 || bufPool > m.byteSize() || ringPool <= 0 || ringPool >= bufPool) {
                    throw new NetmapException("not a region: " + file);
                }
                SplittableRandom rnd = new SplittableRandom(seed);
                System.out.println("hostile: writing " + writes + " values into " + file);
                System.out.flush();
                long pauseNs = TimeUnit.SECONDS.toNanos(2) / writes;
                for (int k = 0; k < writes; k++) {
                    // rings and slots get most of the writes: that is where peers look all the time
                    long off = rnd.nextInt(4) == 0 ? rnd.nextLong(ringPool) : ringPool + rnd.nextLong(bufPool - ringPool);
                    off &= ~3L;
                    int v = switch (rnd.nextInt(4)) {
                        case 0 -> rnd.nextInt();
                        case 1 -> numBufs - 2 + rnd.nextInt(4);
                        case 2 -> rnd.nextInt(4096);
                        default -> -rnd.nextInt(1, 4);
                    };
                    m.set(JAVA_INT, off, v);
                    if (pauseNs > 1000) {
                        LockSupport.parkNanos(pauseNs);
                    }
                }
            }
            return Cli.OK;
        }
    }
}
