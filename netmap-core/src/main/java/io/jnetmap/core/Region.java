package io.jnetmap.core;

import io.jnetmap.sys.Linux;
import io.jnetmap.sys.SyscallException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A memory region ({@link RegionLayout}): one contiguous segment holding a header, interface
 * descriptors, rings and a pool of fixed-size buffers addressed by index. Private to the process
 * (anonymous memory) or shared (a file under {@link #directory()}, mode 0600, mapped by every process
 * that opens it).
 *
 * <p>Ports that live in the same region can exchange buffers by index (zero copy). Allocation of
 * descriptors, rings and buffers happens when ports open and close, under a lock that works across
 * processes ({@code ALLOC_LOCK}: the holder's pid, stolen only from a dead process); nothing here
 * runs per packet.
 *
 * <p>A shared region is opened once per JVM and reference counted; the file is removed when the last
 * process attached to it closes it (processes that died are detected and do not count).
 */
public final class Region implements AutoCloseable {
    private static final VarHandle INT = JAVA_INT.varHandle();
    private static final AtomicLong PRIVATE_IDS = new AtomicLong();
    /** Serialises shared-region open/close in this JVM (file locks are per process). */
    private static final Object SHARED_LOCK = new Object();
    private static final Map<String, Region> SHARED = new HashMap<>();
    private static final int PID = Linux.getpid();

    private final String name;
    private final Path file;
    private final Arena arena;
    private final MemorySegment mem;
    private final Geometry geometry;
    private final long ifPool;
    private final long ringPool;
    private final long ringSize;
    private final long bufPool;
    private final int bufSize;
    private final int bufs;
    private final RegionAllocator allocator;
    /** Guarded by SHARED_LOCK for shared regions, by this for private ones. */
    private int refs = 1;
    private boolean closed;

    private Region(String name, Path file, Arena arena, MemorySegment mem, Geometry g) {
        this.name = name;
        this.file = file;
        this.arena = arena;
        this.mem = mem;
        this.geometry = g;
        this.ifPool = g.ifPoolOffset();
        this.ringPool = g.ringPoolOffset();
        this.ringSize = g.ringSize();
        this.bufPool = g.bufPoolOffset();
        this.bufSize = g.bufSize();
        this.bufs = g.bufs();
        this.allocator = new RegionAllocator(this, mem, g);
    }

    // ----------------------------------------------------------------------------------------------
    // creation

    /** The lock this process's threads take around the directory lock {@code .lock} (for {@link Janitor}). */
    static Object sharedLock() {
        return SHARED_LOCK;
    }

        /** Where shared regions live ({@link ShmDirectory#path()}). */
    public static Path directory() {
        return ShmDirectory.path();
    }

    /** A region in anonymous memory, visible to this process only. Pages are populated up front. */
    public static Region createPrivate(Geometry g) {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment mem = Linux.mmap(g.regionSize(), Linux.PROT_READ | Linux.PROT_WRITE,
                    Linux.MAP_PRIVATE | Linux.MAP_ANONYMOUS | Linux.MAP_POPULATE, -1, 0, arena);
            Region r = new Region("private-" + PRIVATE_IDS.incrementAndGet(), null, arena, mem, g);
            r.initialize();
            return r;
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Opens shared region {@code name}, creating it with geometry {@code g} if it does not exist (or
     * if every process that had it open has died). An existing region keeps its own geometry.
     */
    public static Region openOrCreateShared(String name, Geometry g) {
        return openShared(name, g);
    }

    /** Opens an existing shared region; fails if there is none called {@code name}. */
    public static Region openShared(String name) {
        return openShared(name, null);
    }

    private static Region openShared(String name, Geometry createWith) {
        checkRegionName(name);
        synchronized (SHARED_LOCK) {
            Region r = SHARED.get(name);
            if (r != null) {
                r.refs++;
                return r;
            }
            Path dir = directory();
            Path file = dir.resolve(name);
            return ShmDirectory.locked(dir, ".lock", () -> {
                Region created = attachExisting(name, file);
                if (created == null) {
                    if (createWith == null) {
                        throw new NetmapException("no shared region \"" + name + "\" in " + dir);
                    }
                    created = createFile(name, file, createWith);
                }
                created.registerUser();
                SHARED.put(name, created);
                return created;
            });
        }
    }

    private static void checkRegionName(String name) {
        if (name == null || name.isEmpty() || name.length() >= RegionLayout.NAME_LENGTH || name.startsWith(".")
                || !name.chars().allMatch(c -> Character.isLetterOrDigit(c) || c == '_' || c == '-' || c == '.')) {
            throw new IllegalArgumentException("region name=" + name
                    + " (expected: 1..63 characters of [A-Za-z0-9_.-], not starting with '.')");
        }
    }

    /** Maps an existing file; null if there is none or it is stale (all users dead): then it is removed. */
    private static Region attachExisting(String name, Path file) {
        long size;
        try {
            size = Files.size(file);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new NetmapException("cannot stat region file " + file + ": " + e, e);
        }
        if (size < RegionLayout.HEADER_SIZE) {
            throw new NetmapException.LayoutMismatch("region file " + file + " is " + size
                    + " bytes, smaller than a region header (" + RegionLayout.HEADER_SIZE + "): not a jnetmap region");
        }
        Arena arena = Arena.ofShared();
        try {
            int fd = Linux.open(file.toString(), Linux.O_RDWR | Linux.O_CLOEXEC, 0);
            MemorySegment mem;
            try {
                mem = Linux.mmap(size, Linux.PROT_READ | Linux.PROT_WRITE, Linux.MAP_SHARED | Linux.MAP_POPULATE, fd, 0, arena);
            } finally {
                Linux.close(fd);
            }
            Geometry g = readGeometry(file, mem, size);
            Region r = new Region(name, file, arena, mem, g);
            if (r.liveUsers() == 0) {
                // every process that had it open is gone: its rings and buffers are garbage
                arena.close();
                Files.deleteIfExists(file);
                return null;
            }
            return r;
        } catch (SyscallException e) {
            arena.close();
            throw new NetmapException("cannot map region file " + file + ": " + e.getMessage(), e);
        } catch (IOException e) {
            arena.close();
            throw new NetmapException("cannot remove stale region file " + file + ": " + e, e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static Geometry readGeometry(Path file, MemorySegment mem, long size) {
        long magic = mem.get(JAVA_LONG, RegionLayout.MAGIC_OFFSET);
        if (magic != RegionLayout.MAGIC) {
            throw new NetmapException.LayoutMismatch("region file " + file + " has magic 0x" + Long.toHexString(magic)
                    + " (expected: 0x" + Long.toHexString(RegionLayout.MAGIC) + " \"JNETMAP1\"): not a jnetmap region");
        }
        int version = mem.get(JAVA_INT, RegionLayout.VERSION_OFFSET);
        if (version != RegionLayout.VERSION) {
            throw new NetmapException.LayoutMismatch("region file " + file + " has layout version " + version
                    + ", this jnetmap reads version " + RegionLayout.VERSION
                    + ": close the processes using it, or remove the file");
        }
        int state = (int) INT.getAcquire(mem, RegionLayout.STATE_OFFSET);
        if (state != RegionLayout.STATE_READY) {
            throw new NetmapException.LayoutMismatch("region file " + file + " is in state " + state
                    + " (expected: " + RegionLayout.STATE_READY + " = ready): its creator died while initialising it");
        }
        Geometry g;
        try {
            g = new Geometry(mem.get(JAVA_INT, RegionLayout.IF_NUM_OFFSET), mem.get(JAVA_INT, RegionLayout.RING_NUM_OFFSET),
                    maxSlotsFor(mem.get(JAVA_INT, RegionLayout.RING_SIZE_OFFSET)),
                    mem.get(JAVA_INT, RegionLayout.BUF_NUM_OFFSET), mem.get(JAVA_INT, RegionLayout.BUF_SIZE_OFFSET));
        } catch (IllegalArgumentException e) {
            throw new NetmapException.LayoutMismatch("region file " + file + " has a corrupt header: " + e.getMessage());
        }
        long expected = g.regionSize();
        if (mem.get(JAVA_LONG, RegionLayout.REGION_SIZE_OFFSET) != expected || size < expected
                || mem.get(JAVA_LONG, RegionLayout.BUF_POOL_OFS_OFFSET) != g.bufPoolOffset()
                || mem.get(JAVA_LONG, RegionLayout.RING_POOL_OFS_OFFSET) != g.ringPoolOffset()
                || mem.get(JAVA_LONG, RegionLayout.IF_POOL_OFS_OFFSET) != g.ifPoolOffset()) {
            throw new NetmapException.LayoutMismatch("region file " + file + " has a corrupt header: sizes and offsets disagree"
                    + " (file " + size + " bytes, header says " + mem.get(JAVA_LONG, RegionLayout.REGION_SIZE_OFFSET) + ")");
        }
        return g;
    }

    private static int maxSlotsFor(int ringSize) {
        return (int) ((ringSize - RingLayout.SLOTS_OFFSET) / SlotLayout.SIZE);
    }

    private static Region createFile(String name, Path file, Geometry g) {
        Arena arena = Arena.ofShared();
        boolean created = false;
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            created = true;
            int fd = Linux.open(file.toString(), Linux.O_RDWR | Linux.O_CLOEXEC, 0);
            MemorySegment mem;
            try {
                Linux.ftruncate(fd, g.regionSize());
                mem = Linux.mmap(g.regionSize(), Linux.PROT_READ | Linux.PROT_WRITE,
                        Linux.MAP_SHARED | Linux.MAP_POPULATE, fd, 0, arena);
            } finally {
                Linux.close(fd);
            }
            Region r = new Region(name, file, arena, mem, g);
            r.initialize();
            return r;
        } catch (IOException | RuntimeException e) {
            arena.close();
            if (created) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException ignored) {
                    // the original failure is what matters
                }
            }
            if (e instanceof RuntimeException re) {
                throw re;
            }
            throw new NetmapException("cannot create region file " + file + ": " + e, e);
        }
    }

    /** Writes header and bitmaps of a fresh (zeroed) region; publishes STATE_READY last. */
    private void initialize() {
        Geometry g = geometry;
        mem.set(JAVA_LONG, RegionLayout.MAGIC_OFFSET, RegionLayout.MAGIC);
        mem.set(JAVA_INT, RegionLayout.VERSION_OFFSET, RegionLayout.VERSION);
        mem.set(JAVA_INT, RegionLayout.HEADER_SIZE_OFFSET, RegionLayout.HEADER_SIZE);
        mem.set(JAVA_LONG, RegionLayout.REGION_SIZE_OFFSET, g.regionSize());
        mem.set(JAVA_INT, RegionLayout.CREATOR_PID_OFFSET, PID);
        mem.set(JAVA_LONG, RegionLayout.IF_POOL_OFS_OFFSET, ifPool);
        mem.set(JAVA_INT, RegionLayout.IF_NUM_OFFSET, g.ifs());
        mem.set(JAVA_INT, RegionLayout.IF_SIZE_OFFSET, NetmapIfLayout.IF_SIZE);
        mem.set(JAVA_LONG, RegionLayout.RING_POOL_OFS_OFFSET, ringPool);
        mem.set(JAVA_INT, RegionLayout.RING_NUM_OFFSET, g.rings());
        mem.set(JAVA_INT, RegionLayout.RING_SIZE_OFFSET, (int) ringSize);
        mem.set(JAVA_LONG, RegionLayout.BUF_POOL_OFS_OFFSET, bufPool);
        mem.set(JAVA_INT, RegionLayout.BUF_NUM_OFFSET, bufs);
        mem.set(JAVA_INT, RegionLayout.BUF_SIZE_OFFSET, bufSize);
        mem.set(JAVA_LONG, RegionLayout.BITMAP_OFS_OFFSET, g.bitmapOffset());
        mem.set(JAVA_LONG, RegionLayout.BITMAP_SIZE_OFFSET, g.bitmapSize());
        writeString(RegionLayout.NAME_OFFSET, RegionLayout.NAME_LENGTH, name);
        allocator.initialize();
        // ordered store -> a process that reads READY sees everything above
        INT.setRelease(mem, RegionLayout.STATE_OFFSET, RegionLayout.STATE_READY);
    }

    // ----------------------------------------------------------------------------------------------
    // identity and addressing

    /** {@code private-N} for private regions, the file name for shared ones. */
    public String name() {
        return name;
    }

    /** The file behind a shared region; empty for a private one. */
    public Optional<Path> file() {
        return Optional.ofNullable(file);
    }

    public boolean isShared() {
        return file != null;
    }

    public Geometry geometry() {
        return geometry;
    }

    /** The whole region. Buffer {@code i} is at {@link #bufOffset(int)}. */
    public MemorySegment memory() {
        return mem;
    }

    public int bufSize() {
        return bufSize;
    }

    /** Number of buffers, reserved ones included: valid packet buffers are {@code 2 .. numBufs()-1}. */
    public int numBufs() {
        return bufs;
    }

    /** True if {@code bufIdx} names a packet buffer of this region (not reserved, not out of range). */
    public boolean isValidBuf(int bufIdx) {
        return bufIdx >= RegionLayout.RESERVED_BUFS && bufIdx < bufs;
    }

    /** Offset of buffer {@code bufIdx} in {@link #memory()}; the index is not checked. */
    public long bufOffset(int bufIdx) {
        return bufPool + (long) bufIdx * bufSize;
    }

    /** Buffer {@code bufIdx} as its own segment (allocates a small object; hot paths use {@link #bufOffset}). */
    public MemorySegment buffer(int bufIdx) {
        if (bufIdx < 0 || bufIdx >= bufs) {
            throw new IndexOutOfBoundsException("bufIdx=" + bufIdx + " (expected: 0.." + (bufs - 1) + ")");
        }
        return mem.asSlice(bufOffset(bufIdx), bufSize);
    }

    long ifPoolOffset() {
        return ifPool;
    }

    long ringPoolOffset() {
        return ringPool;
    }

    /** Buffers currently free in the pool. */
    public int freeBufs() {
        return (int) INT.getAcquire(mem, RegionLayout.FREE_BUFS_OFFSET);
    }

    // ----------------------------------------------------------------------------------------------
    // allocation (open/close time only; see RegionAllocator)

    /**
     * Allocates an interface descriptor with its rings and one buffer per slot, plus
     * {@code spec.extraBufs()} extra buffers linked from {@code BUFS_HEAD}.
     */
    public NetmapIf allocIf(IfSpec spec) {
        return allocator.allocIf(spec);
    }

    /**
     * Frees an interface descriptor, its rings, the buffer of every slot and the extra-buffer list
     * {@code BUFS_HEAD} points to now (netmap's rule). Indices that are invalid or already free (a
     * corrupted ring or list) are skipped and counted in the result, never freed twice.
     *
     * @return the number of bad buffer references skipped
     */
    public int freeIf(NetmapIf nifp) {
        return allocator.freeIf(nifp);
    }

    /** Allocates one buffer; returns its index, or 0 if the pool is empty. */
    public int allocBuf() {
        return allocator.allocBuf();
    }

    /** Returns buffer {@code bufIdx} to the pool; false if it is invalid or already free. */
    public boolean freeBuf(int bufIdx) {
        return allocator.freeBuf(bufIdx);
    }

    /**
     * Allocates up to {@code n} buffers as a list linked through their first 4 bytes (0 ends it), for a
     * port's extra buffers. Returns the head, or 0 if none could be had.
     */
    public int allocBufList(int n) {
        return allocator.allocBufList(n);
    }

    /** Frees a list made by {@link #allocBufList}; returns the number of bad links skipped. */
    public int freeBufList(int head) {
        return allocator.freeBufList(head);
    }

    /** True if the pool's bitmap marks {@code bufIdx} as allocated (for checks and tests). */
    public boolean isAllocated(int bufIdx) {
        return allocator.isAllocated(bufIdx);
    }

    /** The interface descriptors currently allocated in this region. */
    public List<NetmapIf> interfaces() {
        return allocator.interfaces();
    }

    /** The allocated interface descriptor called {@code name}, if any. */
    public Optional<NetmapIf> findIf(String ifName) {
        return interfaces().stream().filter(n -> n.name().equals(ifName)).findFirst();
    }

    /** The descriptor at {@code offset} (as stored by a peer); checked to be an allocated descriptor. */
    public NetmapIf ifAt(long offset) {
        return allocator.ifAt(offset);
    }

    // ----------------------------------------------------------------------------------------------
    // users of a shared region

    private void registerUser() {
        allocator.locked(() -> {
            long free = -1;
            for (int i = 0; i < RegionLayout.USERS_MAX; i++) {
                long off = RegionLayout.USERS_OFFSET + 4L * i;
                int pid = mem.get(JAVA_INT, off);
                if (pid == PID) {
                    return null;
                }
                if (free < 0 && (pid == 0 || !Linux.processAlive(pid))) {
                    free = off;
                }
            }
            if (free < 0) {
                throw new NetmapException("region " + name + " already has " + RegionLayout.USERS_MAX + " live processes attached");
            }
            mem.set(JAVA_INT, free, PID);
            return null;
        });
    }

    /** Live processes attached to this region (this one included if attached). */
    public int liveUsers() {
        int n = 0;
        for (int i = 0; i < RegionLayout.USERS_MAX; i++) {
            int pid = mem.get(JAVA_INT, RegionLayout.USERS_OFFSET + 4L * i);
            if (pid != 0 && Linux.processAlive(pid)) {
                n++;
            }
        }
        return n;
    }

    /** Another reference to this region (ports sharing it); each needs its own {@link #close()}. */
    public Region retain() {
        if (isShared()) {
            synchronized (SHARED_LOCK) {
                checkOpen();
                refs++;
            }
        } else {
            synchronized (this) {
                checkOpen();
                refs++;
            }
        }
        return this;
    }

    private void checkOpen() {
        if (closed) {
            throw new NetmapException.Closed("region " + name + " is closed");
        }
    }

    public boolean isClosed() {
        return closed;
    }

    /**
     * Drops one reference. The last one unmaps the region; for a shared region it also detaches this
     * process and removes the file if no live process is attached any more.
     */
    @Override
    public void close() {
        if (!isShared()) {
            synchronized (this) {
                if (closed || --refs > 0) {
                    return;
                }
                closed = true;
            }
            arena.close();
            return;
        }
        synchronized (SHARED_LOCK) {
            if (closed || --refs > 0) {
                return;
            }
            closed = true;
            SHARED.remove(name);
            ShmDirectory.locked(file.getParent(), ".lock", () -> {
                for (int i = 0; i < RegionLayout.USERS_MAX; i++) {
                    long off = RegionLayout.USERS_OFFSET + 4L * i;
                    if (mem.get(JAVA_INT, off) == PID) {
                        mem.set(JAVA_INT, off, 0);
                    }
                }
                boolean last = liveUsers() == 0;
                arena.close();
                if (last) {
                    try {
                        Files.deleteIfExists(file);
                    } catch (IOException e) {
                        throw new NetmapException("closing region " + name + ": cannot remove " + file + ": " + e, e);
                    }
                }
                return null;
            });
        }
    }

    private void writeString(long off, int max, String s) {
        RegionLayout.writeText(mem, off, max, s);
    }

    String readString(long off, int max) {
        return RegionLayout.readText(mem, off, max);
    }

    @Override
    public String toString() {
        return "Region[" + name + (file != null ? " " + file : " private") + ", " + geometry + "]";
    }
}
