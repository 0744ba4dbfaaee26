package io.jnetmap.vale;

import io.jnetmap.core.NetmapException;
import io.jnetmap.core.RegionLayout;
import io.jnetmap.sys.Linux;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Control requests between processes without a daemon: a one-slot mailbox in the switch's counters
 * file ({@link StatsLayout}, CTL_*). A client (vale-ctl in another process) takes the mailbox (CAS of
 * its pid into CTL_OWNER, stolen from a dead owner), writes the command and argument, bumps CTL_SEQ
 * with release and polls CTL_DONE; the hosting process's {@link Housekeeper} sees CTL_SEQ move (every
 * 50 ms), runs the command under the configuration lock, writes status and reply, and sets CTL_DONE
 * with release. The file is mode 0600: only the switch owner's user can write requests.
 */
final class ControlMailbox {
    private ControlMailbox() {
    }

    /** Host side: answers a pending request, if any. Under Vale.CONFIG (from the housekeeper). */
    static void serve(ValeSwitch sw) {
        MemorySegment m = sw.stats().memory();
        long seq = (long) SwitchStats.LONG.getAcquire(m, StatsLayout.CTL_SEQ_OFFSET);
        long done = (long) SwitchStats.LONG.getAcquire(m, StatsLayout.CTL_DONE_OFFSET);
        if (seq == done) {
            return;
        }
        int cmd = m.get(JAVA_INT, StatsLayout.CTL_CMD_OFFSET);
        String arg = RegionLayout.readText(m, StatsLayout.CTL_ARG_OFFSET, StatsLayout.CTL_ARG_LENGTH);
        int status = 0;
        String reply;
        int client = (int) (long) SwitchStats.LONG.getAcquire(m, StatsLayout.CTL_OWNER_OFFSET);
        try {
            reply = execute(sw, cmd, arg, client);
        } catch (RuntimeException e) {
            status = 1;
            reply = e.getMessage() != null ? e.getMessage() : e.toString();
        }
        if (reply.length() > StatsLayout.CTL_REPLY_LENGTH / 4) {
            reply = reply.substring(0, StatsLayout.CTL_REPLY_LENGTH / 4 - 3) + "..."; // at most 4 bytes a char in UTF-8
        }
        RegionLayout.writeText(m, StatsLayout.CTL_REPLY_OFFSET, StatsLayout.CTL_REPLY_LENGTH, reply);
        m.set(JAVA_INT, StatsLayout.CTL_STATUS_OFFSET, status);
        // ordered store -> the client that sees DONE sees status and reply
        SwitchStats.LONG.setRelease(m, StatsLayout.CTL_DONE_OFFSET, seq);
    }

    private static String execute(ValeSwitch sw, int cmd, String arg, int client) {
        if (!arg.startsWith(sw.name() + ":")) {
            throw new IllegalArgumentException("argument " + arg + " does not name a port of switch " + sw.name());
        }
        return switch (cmd) {
            case StatsLayout.CMD_ATTACH, StatsLayout.CMD_ATTACH_HOST, StatsLayout.CMD_ATTACH_REMOTE -> {
                var ports = ValeCtl.attach(arg, cmd == StatsLayout.CMD_ATTACH_HOST,
                        cmd == StatsLayout.CMD_ATTACH_REMOTE ? client : 0);
                yield "attached " + String.join(", ", ports.stream().map(p -> p.fullName() + " (" + p.backend() + ")").toList());
            }
            case StatsLayout.CMD_DETACH -> {
                ValeCtl.detach(arg);
                yield "detached " + arg;
            }
            case StatsLayout.CMD_NEWIF -> "created persistent port " + ValeCtl.newPersistent(arg).fullName();
            case StatsLayout.CMD_DELIF -> {
                ValeCtl.remove(arg);
                yield "removed " + arg;
            }
            default -> throw new IllegalArgumentException("command " + cmd + " (expected: 1..6)");
        };
    }

    /** Client side: posts a request and waits for the answer. */
    static String call(Path file, int cmd, String arg, Duration timeout) {
        int pid = Linux.getpid();
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Arena arena = Arena.ofConfined();
             FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MemorySegment m = ch.map(FileChannel.MapMode.READ_WRITE, 0, StatsLayout.FILE_SIZE, arena);
            int host = m.get(JAVA_INT, StatsLayout.PID_OFFSET);
            acquire(m, pid, deadline, host);
            try {
                long seq = (long) SwitchStats.LONG.getAcquire(m, StatsLayout.CTL_DONE_OFFSET) + 1;
                m.set(JAVA_INT, StatsLayout.CTL_CMD_OFFSET, cmd);
                RegionLayout.writeText(m, StatsLayout.CTL_ARG_OFFSET, StatsLayout.CTL_ARG_LENGTH, arg);
                // ordered store -> the host that sees SEQ move sees command and argument
                SwitchStats.LONG.setRelease(m, StatsLayout.CTL_SEQ_OFFSET, seq);
                while ((long) SwitchStats.LONG.getAcquire(m, StatsLayout.CTL_DONE_OFFSET) != seq) {
                    if (System.nanoTime() > deadline || !Linux.processAlive(host)) {
                        // withdraw the request so a late answer cannot be mistaken for the next one's
                        SwitchStats.LONG.compareAndSet(m, StatsLayout.CTL_SEQ_OFFSET, seq, seq - 1);
                        throw new NetmapException("process " + host + " hosting " + file.getFileName()
                                + " did not answer within " + timeout.toMillis() + " ms");
                    }
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
                }
                String reply = RegionLayout.readText(m, StatsLayout.CTL_REPLY_OFFSET, StatsLayout.CTL_REPLY_LENGTH);
                if (m.get(JAVA_INT, StatsLayout.CTL_STATUS_OFFSET) != 0) {
                    throw new NetmapException(reply);
                }
                return reply;
            } finally {
                SwitchStats.LONG.compareAndSet(m, StatsLayout.CTL_OWNER_OFFSET, (long) pid, 0L);
            }
        } catch (IOException e) {
            throw new NetmapException("cannot open " + file + " for a control request: " + e, e);
        }
    }

    private static void acquire(MemorySegment m, int pid, long deadline, int host) {
        while (true) {
            long owner = (long) SwitchStats.LONG.compareAndExchange(m, StatsLayout.CTL_OWNER_OFFSET, 0L, (long) pid);
            if (owner == 0) {
                return;
            }
            if (!Linux.processAlive((int) owner)) {
                SwitchStats.LONG.compareAndSet(m, StatsLayout.CTL_OWNER_OFFSET, owner, 0L);
                continue;
            }
            if (System.nanoTime() > deadline) {
                throw new NetmapException("control mailbox of process " + host + " is held by process " + owner);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
        }
    }
}
