package io.jnetmap.vale.ctl;

import io.jnetmap.core.NetmapException;
import io.jnetmap.core.RegionLayout;
import io.jnetmap.sys.Linux;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Control requests between processes without a daemon: a one-slot mailbox in the switch's counters
 * file ({@link SwitchFileLayout}, CTL_*). A client (vale-ctl in another process) takes the mailbox
 * (CAS of its pid into CTL_OWNER, stolen from a dead owner), writes the command and argument, bumps
 * CTL_SEQ with release and polls CTL_DONE; the hosting process (its housekeeping thread, every 50 ms)
 * finds the request with {@link #pending}, runs it, and {@link #answer}s: status and reply, then
 * CTL_DONE with release. The file is mode 0600: only the switch owner's user can write requests.
 */
public final class ControlMailbox {
    private static final VarHandle LONG = JAVA_LONG.varHandle();

    private ControlMailbox() {
    }

    /**
     * A request waiting for the host's answer.
     *
     * @param seq    what {@link #answer} must set CTL_DONE to
     * @param code   the command's number ({@link #command()} checks it)
     * @param arg    the command's argument
     * @param client pid of the requesting process
     */
    public record Request(long seq, int code, String arg, int client) {
        /** The command; throws {@link IllegalArgumentException} if the client sent an unknown number. */
        public Command command() {
            return Command.of(code);
        }
    }

    // ----------------------------------------------------------------------------------------------
    // host side

    /** The request waiting in mailbox {@code m} (a counters file mapped by its host), or null. */
    public static Request pending(MemorySegment m) {
        long seq = laSeq(m);
        if (seq == laDone(m)) {
            return null;
        }
        // the acquire of SEQ above orders these reads after the client's writes
        return new Request(seq, m.get(JAVA_INT, SwitchFileLayout.CTL_CMD_OFFSET),
                RegionLayout.readText(m, SwitchFileLayout.CTL_ARG_OFFSET, SwitchFileLayout.CTL_ARG_LENGTH),
                (int) (long) LONG.getAcquire(m, SwitchFileLayout.CTL_OWNER_OFFSET));
    }

    /**
     * Answers {@code r}: {@code ok} or failed, with {@code reply}, whole when its UTF-8 bytes fit the
     * field (511 bytes and the NUL), else cut at a character boundary and ended with "...".
     */
    public static void answer(MemorySegment m, Request r, boolean ok, String reply) {
        reply = fit(reply, SwitchFileLayout.CTL_REPLY_LENGTH - 1);
        RegionLayout.writeText(m, SwitchFileLayout.CTL_REPLY_OFFSET, SwitchFileLayout.CTL_REPLY_LENGTH, reply);
        m.set(JAVA_INT, SwitchFileLayout.CTL_STATUS_OFFSET, ok ? 0 : 1);
        // ordered store -> the client that sees DONE sees status and reply
        LONG.setRelease(m, SwitchFileLayout.CTL_DONE_OFFSET, r.seq());
    }

    /** {@code s} if its UTF-8 encoding has at most {@code max} bytes, else its longest prefix that fits with "...". */
    static String fit(String s, int max) {
        if (s.getBytes(StandardCharsets.UTF_8).length <= max) {
            return s;
        }
        int bytes = 3; // "..."
        int end = 0;
        while (end < s.length()) {
            int cp = s.codePointAt(end);
            int n = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
            if (bytes + n > max) {
                break;
            }
            bytes += n;
            end += Character.charCount(cp);
        }
        return s.substring(0, end) + "...";
    }

    // ----------------------------------------------------------------------------------------------
    // client side

    /**
     * Posts {@code cmd} with {@code arg} to the host of counters file {@code file} and waits for the
     * answer. Returns the host's reply; throws {@link NetmapException} with the host's message if the
     * command failed, or if the host died or did not answer within {@code timeout}.
     */
    public static String call(Path file, Command cmd, String arg, Duration timeout) {
        int pid = Linux.getpid();
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Arena arena = Arena.ofConfined();
             FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MemorySegment m = ch.map(FileChannel.MapMode.READ_WRITE, 0, SwitchFileLayout.FILE_SIZE, arena);
            int host = m.get(JAVA_INT, SwitchFileLayout.PID_OFFSET);
            acquire(m, pid, deadline, host);
            try {
                long seq = laDone(m) + 1;
                m.set(JAVA_INT, SwitchFileLayout.CTL_CMD_OFFSET, cmd.code());
                RegionLayout.writeText(m, SwitchFileLayout.CTL_ARG_OFFSET, SwitchFileLayout.CTL_ARG_LENGTH, arg);
                // ordered store -> the host that sees SEQ move sees command and argument
                LONG.setRelease(m, SwitchFileLayout.CTL_SEQ_OFFSET, seq);
                while (laDone(m) != seq) {
                    if (System.nanoTime() > deadline || !Linux.processAlive(host)) {
                        // withdraw the request so a late answer cannot be mistaken for the next one's
                        LONG.compareAndSet(m, SwitchFileLayout.CTL_SEQ_OFFSET, seq, seq - 1);
                        throw new NetmapException("process " + host + " hosting " + file.getFileName()
                                + " did not answer within " + timeout.toMillis() + " ms");
                    }
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
                }
                String reply = RegionLayout.readText(m, SwitchFileLayout.CTL_REPLY_OFFSET, SwitchFileLayout.CTL_REPLY_LENGTH);
                if (m.get(JAVA_INT, SwitchFileLayout.CTL_STATUS_OFFSET) != 0) {
                    // the host's words are about itself: say whose namespace, files, limits they are
                    throw new NetmapException(reply.replace("process " + host + " ", "process " + host + " (the switch's host) "));
                }
                return reply;
            } finally {
                LONG.compareAndSet(m, SwitchFileLayout.CTL_OWNER_OFFSET, (long) pid, 0L);
            }
        } catch (IOException e) {
            throw new NetmapException("cannot open " + file + " for a control request: " + e, e);
        }
    }

    /** Takes the mailbox for process {@code pid}: CAS of the pid into CTL_OWNER, stolen from a dead owner. */
    private static void acquire(MemorySegment m, int pid, long deadline, int host) {
        while (true) {
            long owner = (long) LONG.compareAndExchange(m, SwitchFileLayout.CTL_OWNER_OFFSET, 0L, (long) pid);
            if (owner == 0) {
                return;
            }
            if (!Linux.processAlive((int) owner)) {
                LONG.compareAndSet(m, SwitchFileLayout.CTL_OWNER_OFFSET, owner, 0L);
                continue;
            }
            if (System.nanoTime() > deadline) {
                throw new NetmapException("control mailbox of process " + host + " is held by process " + owner);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
        }
    }

    /** CTL_SEQ, acquire: the client's command and argument written before it are visible. */
    private static long laSeq(MemorySegment m) {
        return (long) LONG.getAcquire(m, SwitchFileLayout.CTL_SEQ_OFFSET);
    }

    /** CTL_DONE, acquire: the host's status and reply written before it are visible. */
    private static long laDone(MemorySegment m) {
        return (long) LONG.getAcquire(m, SwitchFileLayout.CTL_DONE_OFFSET);
    }
}
