package io.jnetmap.vale;

import io.jnetmap.sys.Linux;
import io.jnetmap.vale.ctl.SwitchFileLayout;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The hosting side of a switch's counters ({@link SwitchFileLayout}): a file other processes can map, or,
 * if it cannot be created (or {@code -Djnetmap.vale.stats=false}), the same bytes in anonymous memory.
 * Counters are added with one atomic add per batch, never per packet.
 */
final class SwitchStats implements AutoCloseable {
    private static final VarHandle LONG = JAVA_LONG.varHandle();
    private static final VarHandle INT = JAVA_INT.varHandle();
    static final int PID = Linux.getpid();

    private final Arena arena;
    private final MemorySegment mem;
    private final Path file;

    private SwitchStats(Arena arena, MemorySegment mem, Path file) {
        this.arena = arena;
        this.mem = mem;
        this.file = file;
    }

    static SwitchStats create(String switchName, String lookupName) {
        Arena arena = Arena.ofShared();
        MemorySegment mem = null;
        Path file = null;
        if (Boolean.parseBoolean(System.getProperty("jnetmap.vale.stats", "true"))) {
            try {
                Path dir = SwitchFileLayout.directory();
                Files.createDirectories(dir);
                file = dir.resolve(switchName + "." + PID + ".stats");
                Files.deleteIfExists(file); // a file of an earlier process that had this pid
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                    mem = ch.map(FileChannel.MapMode.READ_WRITE, 0, SwitchFileLayout.FILE_SIZE, arena);
                }
            } catch (IOException | UnsupportedOperationException e) {
                deleteQuietly(file);
                file = null;
                mem = null;
            }
        }
        if (mem == null) {
            mem = arena.allocate(SwitchFileLayout.FILE_SIZE, 4096);
        }
        SwitchStats s = new SwitchStats(arena, mem, file);
        s.initialize(switchName, lookupName);
        return s;
    }

    private void initialize(String switchName, String lookupName) {
        mem.set(JAVA_LONG, SwitchFileLayout.MAGIC_OFFSET, SwitchFileLayout.MAGIC);
        mem.set(JAVA_INT, SwitchFileLayout.VERSION_OFFSET, SwitchFileLayout.VERSION);
        mem.set(JAVA_INT, SwitchFileLayout.PID_OFFSET, PID);
        mem.set(JAVA_INT, SwitchFileLayout.MAX_PORTS_OFFSET, SwitchFileLayout.MAX_PORTS);
        mem.set(JAVA_INT, SwitchFileLayout.PORT_SIZE_OFFSET, SwitchFileLayout.PORT_SIZE);
        mem.set(JAVA_INT, SwitchFileLayout.PORTS_OFS_OFFSET, (int) SwitchFileLayout.PORTS_OFFSET);
        mem.set(JAVA_LONG, SwitchFileLayout.START_MS_OFFSET, System.currentTimeMillis());
        writeString(SwitchFileLayout.SWITCH_OFFSET, SwitchFileLayout.SWITCH_LENGTH, switchName);
        setLookupName(lookupName);
        heartbeat();
        // ordered store -> a reader that sees LIVE sees the header above
        INT.setRelease(mem, SwitchFileLayout.STATE_OFFSET, SwitchFileLayout.STATE_LIVE);
    }

    MemorySegment memory() {
        return mem;
    }

    /** The file other processes read, or null when the counters live in anonymous memory. */
    Path file() {
        return file;
    }

    void setLookupName(String name) {
        writeString(SwitchFileLayout.LOOKUP_OFFSET, SwitchFileLayout.LOOKUP_LENGTH, name);
    }

    void heartbeat() {
        LONG.setRelease(mem, SwitchFileLayout.HEARTBEAT_MS_OFFSET, System.currentTimeMillis());
    }

    /** Publishes port record {@code port} with zeroed counters. */
    void openPort(int port, int kind, int flags, int rings, String name, String backend) {
        long p = SwitchFileLayout.portOffset(port);
        INT.setRelease(mem, p + SwitchFileLayout.P_STATE_OFFSET, 0);
        mem.asSlice(p + 4, SwitchFileLayout.PORT_SIZE - 4).fill((byte) 0);
        mem.set(JAVA_INT, p + SwitchFileLayout.P_KIND_OFFSET, kind);
        mem.set(JAVA_INT, p + SwitchFileLayout.P_FLAGS_OFFSET, flags);
        mem.set(JAVA_INT, p + SwitchFileLayout.P_RINGS_OFFSET, rings);
        writeString(p + SwitchFileLayout.P_NAME_OFFSET, SwitchFileLayout.P_NAME_LENGTH, name);
        writeString(p + SwitchFileLayout.P_BACKEND_OFFSET, SwitchFileLayout.P_BACKEND_LENGTH, backend);
        // ordered store -> a reader that sees the record in use sees its name and zeroed counters
        INT.setRelease(mem, p + SwitchFileLayout.P_STATE_OFFSET, 1);
    }

    void setPortFlags(int port, int flags) {
        INT.setRelease(mem, SwitchFileLayout.portOffset(port) + SwitchFileLayout.P_FLAGS_OFFSET, flags);
    }

    void closePort(int port) {
        INT.setRelease(mem, SwitchFileLayout.portOffset(port) + SwitchFileLayout.P_STATE_OFFSET, 0);
    }

    void addTx(int port, int counter, long delta) {
        LONG.getAndAdd(mem, SwitchFileLayout.txOffset(port, counter), delta);
    }

    void addRx(int port, int counter, long delta) {
        LONG.getAndAdd(mem, SwitchFileLayout.rxOffset(port, counter), delta);
    }

    long tx(int port, int counter) {
        return (long) LONG.getOpaque(mem, SwitchFileLayout.txOffset(port, counter));
    }

    long rx(int port, int counter) {
        return (long) LONG.getOpaque(mem, SwitchFileLayout.rxOffset(port, counter));
    }

    private void writeString(long off, int max, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(b.length, max - 1);
        mem.asSlice(off, max).fill((byte) 0);
        MemorySegment.copy(b, 0, mem, JAVA_BYTE, off, n);
    }

    /** Marks the switch closed, removes the file and unmaps. */
    @Override
    public void close() {
        INT.setRelease(mem, SwitchFileLayout.STATE_OFFSET, SwitchFileLayout.STATE_CLOSED);
        deleteQuietly(file);
        if (file != null) {
            try {
                Files.deleteIfExists(file.getParent()); // only if no other switch's file is left
            } catch (IOException ignored) {
                // not empty: another switch (or process) still has its file there
            }
        }
        arena.close();
    }

    private static void deleteQuietly(Path f) {
        if (f != null) {
            try {
                Files.deleteIfExists(f);
            } catch (IOException ignored) {
                // best effort: readers skip files of dead processes
            }
        }
    }
}
