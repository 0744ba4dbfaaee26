package io.jnetmap.vale;

import io.jnetmap.core.MonitorPort;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.NetmapException;
import io.jnetmap.core.Port;
import io.jnetmap.core.PortName;
import io.jnetmap.core.ShmDirectory;
import io.jnetmap.core.spi.MonitorPublisher;
import io.jnetmap.sys.Linux;
import io.jnetmap.vale.ctl.RemotePort;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/**
 * Copy monitors of pipe ends and NIC ports across processes, without a daemon. A process that opens a
 * pipe end or NIC port ({@link #published}) listens on a unix-domain socket
 * {@code $JNETMAP_DIR/.monitors/PID.sock} (mode 0600) until it exits. A process opening monitor
 * {@code PORT/r|t|rt} of a port it does not hold ({@link #openMonitor}) creates a pipe, connects to each
 * live publisher in turn and sends one line, {@code PID MONITOR=PIPE_END}; the process holding PORT opens
 * the copy monitor, relays it into PIPE_END on a {@link MonitorRelay} thread and answers {@code ok ...}
 * (others answer {@code absent ...}, a failure {@code error ...}). The connection stays open for the life
 * of the monitor: the requester's close or death closes it, and the publisher then stops the relay
 * within 100 ms. The relay is lossy both ways (the watched port never waits, the monitor counts drops),
 * so a slow or stopped requester never holds the publisher back. The requester sees the publisher's
 * death through a pidfd ({@link RemotePort#ofPublished}). Socket files of dead processes are removed by
 * whoever finds them.
 */
public final class PortMonitors implements MonitorPublisher {
    /** Pipes this process creates to receive monitors: never published themselves. */
    private static final String PIPE_PREFIX = "monp";
    private static final AtomicInteger PIPES = new AtomicInteger();
    private static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final int LINE_MAX = 512;
    private static final Object LOCK = new Object();
    /** Guarded by LOCK: whether this process listens (or failed to and said so). */
    private static boolean started;

    /** The directory of the publishers' sockets. */
    static Path directory() {
        return ShmDirectory.path().resolve(".monitors");
    }

    @Override
    public void published(Port port) {
        if (port.portName().parent().startsWith(PIPE_PREFIX)) {
            return;
        }
        synchronized (LOCK) {
            if (started) {
                return;
            }
            started = true;
            int pid = Linux.getpid();
            Path sock = directory().resolve(pid + ".sock");
            try {
                Files.createDirectories(sock.getParent());
                Files.deleteIfExists(sock); // a dead process's, whose pid this one now has
                ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
                s.bind(UnixDomainSocketAddress.of(sock));
                Files.setPosixFilePermissions(sock, PosixFilePermissions.fromString("rw-------"));
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    try {
                        Files.deleteIfExists(sock);
                    } catch (IOException e) {
                        // a stale file is removed by the next process that finds it
                    }
                }));
                Thread.ofPlatform().daemon().name("monitor-publisher").start(() -> accept(s));
            } catch (IOException | RuntimeException e) {
                System.err.println("jnetmap: cannot publish monitors of this process's ports at " + sock + ": " + e);
            }
        }
    }

    private static void accept(ServerSocketChannel s) {
        while (true) {
            SocketChannel ch;
            try {
                ch = s.accept();
            } catch (IOException e) {
                return;
            }
            Thread.ofVirtual().name("monitor-request").start(() -> serve(ch));
        }
    }

    /** One request: answer it, then relay until the requester closes the connection or the relay ends. */
    private static void serve(SocketChannel ch) {
        MonitorRelay relay = null;
        try (ch) {
            String line = readLine(ch, System.nanoTime() + TIMEOUT_NANOS);
            int sp = line.indexOf(' ');
            int eq = line.lastIndexOf('=');
            if (sp < 0 || eq < sp) {
                reply(ch, "error request \"" + line + "\" (expected: PID MONITOR=PIPE_END)");
                return;
            }
            int client = Integer.parseInt(line.substring(0, sp));
            PortName name = PortName.parse(line.substring(sp + 1, eq));
            Port target = name.kind().equals("monitor") ? Netmap.findOpen(name.monitored()) : null;
            if (target == null || target.isClosed() || name.hasFlag(PortName.ZCOPY_MONITOR)) {
                reply(ch, "absent " + name.monitored() + " is not open in process " + Linux.getpid());
                return;
            }
            MonitorPort m = MonitorPort.open(name, target);
            Port end;
            try {
                end = Netmap.open(PortName.parse(line.substring(eq + 1)).withoutOptions());
            } catch (RuntimeException e) {
                m.close();
                throw e;
            }
            relay = MonitorRelay.serve(m, end, client, line.substring(sp + 1));
            reply(ch, "ok monitoring " + name.text() + " for process " + client + " through " + end.name());
            ByteBuffer b = ByteBuffer.allocate(64); // ch is non-blocking since readLine
            while (ch.read(b) >= 0 && relay.alive()) {
                b.clear();
                Thread.sleep(100);
            }
        } catch (IOException e) {
            // the requester went away: stop below
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            try {
                reply(ch, "error " + e.getMessage());
            } catch (IOException ignored) {
                // the requester went away
            }
        } finally {
            if (relay != null) {
                relay.closeServed();
            }
        }
    }

    @Override
    public Port openMonitor(PortName name) {
        if (name.hasFlag(PortName.ZCOPY_MONITOR) || !Files.isDirectory(directory())) {
            return null;
        }
        List<Path> socks;
        try (Stream<Path> files = Files.list(directory())) {
            socks = files.filter(f -> f.getFileName().toString().matches("[0-9]+\\.sock")).sorted().toList();
        } catch (IOException e) {
            return null;
        }
        int self = Linux.getpid();
        for (Path f : socks) {
            int pid = Integer.parseInt(f.getFileName().toString().replace(".sock", ""));
            if (pid == self) {
                continue;
            }
            if (!Linux.processAlive(pid)) {
                try {
                    Files.deleteIfExists(f);
                } catch (IOException e) {
                    // another process removed it
                }
                continue;
            }
            Port p = ask(name, f, pid);
            if (p != null) {
                return p;
            }
        }
        return null;
    }

    /** Asks publisher {@code pid} for monitor {@code name}: the monitor, or null if it does not hold the port. */
    private static Port ask(PortName name, Path sock, int pid) {
        SocketChannel ch;
        try {
            ch = SocketChannel.open(UnixDomainSocketAddress.of(sock));
        } catch (IOException e) {
            return null; // not listening (exiting, or an older process with this pid's file)
        }
        String parent = PIPE_PREFIX + Linux.getpid() + "x" + PIPES.incrementAndGet();
        StringBuilder conf = new StringBuilder("@conf:pipes=1");
        for (String k : new String[] {"rings", "tx-rings", "rx-rings", "slots", "tx-slots", "rx-slots"}) {
            Integer v = name.conf().get(k);
            if (v != null) {
                conf.append(',').append(k).append('=').append(v);
            }
        }
        Port end = null;
        boolean ok = false;
        try {
            end = Netmap.open(parent + "{0" + conf);
            reply(ch, Linux.getpid() + " " + name.withoutOptions() + "=" + parent + "}0");
            String answer = readLine(ch, System.nanoTime() + TIMEOUT_NANOS);
            if (answer.startsWith("ok ")) {
                Port p = RemotePort.ofPublished(name, end, pid, () -> {
                    try {
                        ch.close(); // the publisher stops the relay
                    } catch (IOException e) {
                        // already closed
                    }
                });
                ok = true;
                return p;
            }
            if (answer.startsWith("absent ")) {
                return null;
            }
            throw new NetmapException("cannot open monitor \"" + name.text() + "\": process " + pid + " (which holds "
                    + name.monitored() + "): " + answer.substring(answer.indexOf(' ') + 1));
        } catch (IOException e) {
            throw new NetmapException("cannot open monitor \"" + name.text() + "\": process " + pid + " did not answer: " + e, e);
        } finally {
            if (!ok) {
                try {
                    ch.close();
                } catch (IOException e) {
                    // nothing to undo
                }
                if (end != null) {
                    end.close();
                }
            }
        }
    }

    private static void reply(SocketChannel ch, String line) throws IOException {
        ByteBuffer b = ByteBuffer.wrap((line.replace('\n', ' ') + "\n").getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /**
     * One line (without its newline) from {@code ch}, at most LINE_MAX bytes, by {@code deadline}
     * ({@link System#nanoTime()}): a stopped peer cannot hang the reader. Leaves {@code ch} non-blocking.
     */
    private static String readLine(SocketChannel ch, long deadline) throws IOException {
        ch.configureBlocking(false);
        ByteBuffer b = ByteBuffer.allocate(LINE_MAX);
        ByteBuffer one = ByteBuffer.allocate(1);
        while (b.hasRemaining()) {
            one.clear();
            int n = ch.read(one);
            if (n < 0) {
                throw new IOException("connection closed before a whole line");
            }
            if (n == 0) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("no whole line within " + TimeUnit.NANOSECONDS.toSeconds(TIMEOUT_NANOS) + " s");
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
                continue;
            }
            if (one.get(0) == '\n') {
                return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8);
            }
            b.put(one.get(0));
        }
        throw new IOException("line longer than " + LINE_MAX + " bytes");
    }
}
