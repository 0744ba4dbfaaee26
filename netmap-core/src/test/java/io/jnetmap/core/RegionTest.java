package io.jnetmap.core;

import io.jnetmap.sys.Linux;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RegionTest {
    private static final Geometry SMALL = new Geometry(4, 8, 64, 1024, 2048);
    private final List<Region> open = new ArrayList<>();
    private String prefix;

    @BeforeEach
    void names() {
        prefix = "rt-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
    }

    @AfterEach
    void closeAll() throws IOException {
        for (Region r : open) {
            r.close();
        }
        try (var files = Files.list(Region.directory())) {
            for (Path p : files.filter(p -> p.getFileName().toString().startsWith(prefix)).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (java.nio.file.NoSuchFileException ignored) {
            // nothing was created
        }
    }

    private Region keep(Region r) {
        open.add(r);
        return r;
    }

    @Test
    void geometryIsValidatedWithNameValueExpected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Geometry(1, 1, 64, 100, 100));
        assertEquals("bufSize=100 (expected: a multiple of 64)", e.getMessage());
        assertEquals("maxSlots=1 (expected: 2..65536)",
                assertThrows(IllegalArgumentException.class, () -> new Geometry(1, 1, 1, 100, 2048)).getMessage());
        assertEquals("bufs=2 (expected: 3..2147483647)",
                assertThrows(IllegalArgumentException.class, () -> new Geometry(1, 1, 8, 2, 2048)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Geometry(1, 1, 8, Integer.MAX_VALUE, 65536))
                .getMessage().contains("GiB"));
    }

    @Test
    void allocatorLockOfADeadProcessIsTaken() throws Exception {
        Region r = keep(Region.createPrivate(SMALL));
        Process dead = new ProcessBuilder("true").start();
        assertTrue(dead.waitFor(10, TimeUnit.SECONDS));
        r.memory().set(JAVA_LONG, RegionLayout.ALLOC_LOCK_OFFSET, dead.pid()); // it died holding the allocator
        int b = r.allocBuf();
        assertTrue(r.isValidBuf(b));
        assertEquals(0, r.memory().get(JAVA_LONG, RegionLayout.ALLOC_LOCK_OFFSET), "released after use");
    }

    @Test
    void headerDescribesTheLayout() {
        Region r = keep(Region.createPrivate(SMALL));
        MemorySegment m = r.memory();
        assertEquals(RegionLayout.MAGIC, m.get(JAVA_LONG, RegionLayout.MAGIC_OFFSET));
        assertEquals(RegionLayout.VERSION, m.get(JAVA_INT, RegionLayout.VERSION_OFFSET));
        assertEquals(SMALL.regionSize(), m.get(JAVA_LONG, RegionLayout.REGION_SIZE_OFFSET));
        assertEquals(SMALL.regionSize(), m.byteSize());
        assertEquals(RegionLayout.STATE_READY, m.get(JAVA_INT, RegionLayout.STATE_OFFSET));
        assertEquals(1024, m.get(JAVA_INT, RegionLayout.BUF_NUM_OFFSET));
        assertEquals(2048, m.get(JAVA_INT, RegionLayout.BUF_SIZE_OFFSET));
        long bufPool = m.get(JAVA_LONG, RegionLayout.BUF_POOL_OFS_OFFSET);
        assertEquals(0, bufPool % 4096, "buffer pool is page aligned");
        assertEquals(bufPool + 5 * 2048L, r.bufOffset(5));
        assertEquals(1024 - RegionLayout.RESERVED_BUFS, r.freeBufs());
        assertTrue(r.isAllocated(0) && r.isAllocated(1), "buffers 0 and 1 are reserved");
        assertFalse(r.isValidBuf(1));
        assertTrue(r.isValidBuf(2));
        assertFalse(r.isValidBuf(1024));
    }

    @Test
    void allocIfGivesEverySlotItsOwnBufferAndFreeIfReturnsThem() {
        Region r = keep(Region.createPrivate(SMALL));
        int free0 = r.freeBufs();
        NetmapIf nifp = r.allocIf(new IfSpec("vale0:p", 7, 2, 1, 0, 1, 16, 32, 10));
        assertEquals("vale0:p", nifp.name());
        assertEquals(2, nifp.txRings());
        assertEquals(1, nifp.rxRings());
        assertEquals(1, nifp.hostRxRings());
        assertEquals(7, nifp.kind());
        assertEquals(NetmapIfLayout.NI_PRIV_MEM, nifp.flags());
        assertEquals(Linux.getpid(), nifp.ownerPid());
        assertEquals(free0 - (2 * 16 + 2 * 32 + 10), r.freeBufs());
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < nifp.totalRings(); i++) {
            long ringOfs = nifp.ringOffset(i);
            MemorySegment m = r.memory();
            int slots = m.get(JAVA_INT, ringOfs + RingLayout.NUM_SLOTS_OFFSET);
            assertEquals(i < 2 ? 16 : 32, slots);
            assertEquals(r.bufOffset(0), ringOfs + m.get(JAVA_LONG, ringOfs + RingLayout.BUF_OFS_OFFSET), "netmap's buf_ofs");
            assertEquals(nifp.offset(), ringOfs + m.get(JAVA_LONG, ringOfs + RingLayout.IF_OFS_OFFSET));
            for (int s = 0; s < slots; s++) {
                int b = m.get(JAVA_INT, ringOfs + RingLayout.SLOTS_OFFSET + 16L * s);
                assertTrue(r.isValidBuf(b) && r.isAllocated(b));
                assertTrue(seen.add(b), "distinct buffers");
            }
        }
        int extras = 0;
        for (int b = nifp.bufsHead(); b != 0; b = r.memory().get(JAVA_INT, r.bufOffset(b))) {
            assertTrue(seen.add(b), "extra buffers are distinct from ring buffers");
            extras++;
        }
        assertEquals(10, extras);
        assertEquals(0, r.freeIf(nifp));
        assertEquals(free0, r.freeBufs(), "every buffer came back");
        assertTrue(r.interfaces().isEmpty());
    }

    @Test
    void extraBuffersTakenAndGivenAreReclaimedAtClose() {
        Region r = keep(Region.createPrivate(SMALL));
        int free0 = r.freeBufs();
        NetmapIf nifp = r.allocIf(new IfSpec("p", 0, 1, 1, 0, 0, 8, 8, 4));
        int a = nifp.takeExtraBuf();
        int b = nifp.takeExtraBuf();
        assertNotEquals(a, b);
        nifp.giveExtraBuf(a);
        // b is now "held by the application"; it goes back only if it is on the list or in a slot at close
        assertEquals(0, r.freeIf(nifp));
        assertEquals(free0 - 1, r.freeBufs(), "b was lost by the application, as in netmap");
        assertTrue(r.freeBuf(b));
        assertFalse(r.freeBuf(b), "double free is refused");
        assertEquals(free0, r.freeBufs());
    }

    @Test
    void corruptedListsAndSlotsNeverFreeTwice() {
        Region r = keep(Region.createPrivate(SMALL));
        int free0 = r.freeBufs();
        NetmapIf nifp = r.allocIf(new IfSpec("p", 0, 1, 1, 0, 0, 8, 8, 3));
        long ring = nifp.ringOffset(0);
        int victim = r.memory().get(JAVA_INT, ring + RingLayout.SLOTS_OFFSET);
        // a peer writes garbage: a duplicate index and an out-of-range index
        r.memory().set(JAVA_INT, ring + RingLayout.SLOTS_OFFSET + 16, victim);
        int lost = r.memory().get(JAVA_INT, ring + RingLayout.SLOTS_OFFSET + 32);
        r.memory().set(JAVA_INT, ring + RingLayout.SLOTS_OFFSET + 32, 999_999);
        int bad = r.freeIf(nifp);
        assertEquals(2, bad, "the duplicate and the out-of-range index are skipped and counted");
        assertTrue(r.isAllocated(lost), "the overwritten buffer is not freed");
        int leaked = free0 - r.freeBufs();
        assertEquals(2, leaked, "buffers overwritten by garbage are lost, nothing is freed twice");
    }

    @Test
    void exhaustionIsAClearError() {
        Region r = keep(Region.createPrivate(new Geometry(1, 2, 64, 100, 2048)));
        NetmapException.OutOfMemory e = assertThrows(NetmapException.OutOfMemory.class,
                () -> r.allocIf(IfSpec.of("big", 1, 64)));
        assertTrue(e.getMessage().contains("needs 128"), e.getMessage());
        r.allocIf(IfSpec.of("a", 1, 8));
        assertTrue(assertThrows(NetmapException.OutOfMemory.class, () -> r.allocIf(IfSpec.of("b", 1, 8)))
                .getMessage().contains("interface descriptor"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Region.createPrivate(SMALL).allocIf(IfSpec.of("c", 1, 65)))
                .getMessage().contains("slots=65"));
    }

    @Test
    void sharedRegionIsAFileWithMode0600AndGoesAwayWithItsLastUser() throws IOException {
        String name = prefix + "-a";
        Region r = Region.openOrCreateShared(name, SMALL);
        Path file = r.file().orElseThrow();
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals(SMALL.regionSize(), Files.size(file));
        assertEquals(1, r.liveUsers());
        Region again = Region.openShared(name);
        assertSame(r, again, "one mapping per process");
        again.close();
        assertTrue(Files.exists(file), "still referenced");
        NetmapIf nifp = r.allocIf(IfSpec.of("x", 1, 8));
        assertEquals(0, nifp.flags(), "shared: not NI_PRIV_MEM");
        r.close();
        assertFalse(Files.exists(file), "the last user removed the file");
        assertThrows(NetmapException.class, () -> Region.openShared(name));
    }

    @Test
    void versionMismatchIsAClearError() throws IOException {
        String name = prefix + "-v";
        Region r = keep(Region.openOrCreateShared(name, SMALL));
        Path file = r.file().orElseThrow();
        // a copy of the file with another version, attached as if another jnetmap wrote it
        Path other = file.resolveSibling(prefix + "-v2");
        Files.copy(file, other);
        try (var ch = java.nio.channels.FileChannel.open(other, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {99, 0, 0, 0}), RegionLayout.VERSION_OFFSET);
        }
        NetmapException.LayoutMismatch e = assertThrows(NetmapException.LayoutMismatch.class, () -> Region.openShared(prefix + "-v2"));
        assertTrue(e.getMessage().contains("layout version 99, this jnetmap reads version " + RegionLayout.VERSION), e.getMessage());
        try (var ch = java.nio.channels.FileChannel.open(other, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}), RegionLayout.MAGIC_OFFSET);
        }
        assertTrue(assertThrows(NetmapException.LayoutMismatch.class, () -> Region.openShared(prefix + "-v2"))
                .getMessage().contains("not a jnetmap region"));
        Files.write(other, new byte[10]);
        assertTrue(assertThrows(NetmapException.LayoutMismatch.class, () -> Region.openShared(prefix + "-v2"))
                .getMessage().contains("smaller than a region header"));
    }

    @Test
    void aRegionLeftByDeadProcessesIsRecreated() throws IOException {
        String name = prefix + "-s";
        Region r = Region.openOrCreateShared(name, SMALL);
        Path file = r.file().orElseThrow();
        // pretend the only user was a process that died: copy the file while we are its user, then swap pids
        Path stale = file.resolveSibling(prefix + "-s2");
        Files.copy(file, stale);
        r.close();
        try (var ch = java.nio.channels.FileChannel.open(stale, java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer pid = java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(0, Integer.MAX_VALUE - 3);
            ch.write(pid, RegionLayout.USERS_OFFSET);
        }
        Region fresh = keep(Region.openOrCreateShared(prefix + "-s2", new Geometry(2, 4, 32, 256, 2048)));
        assertEquals(256, fresh.numBufs(), "recreated with the new geometry");
        assertEquals(1, fresh.liveUsers());
    }

    @Test
    void regionNamesAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> Region.openShared("../etc"));
        assertThrows(IllegalArgumentException.class, () -> Region.openShared(".lock"));
        assertThrows(IllegalArgumentException.class, () -> Region.openShared(""));
    }

    @Test
    void concurrentAllocationNeverHandsOutABufferTwice() throws Exception {
        Region r = keep(Region.createPrivate(new Geometry(1, 1, 8, 20_002, 64)));
        int threads = 4;
        int per = 5000;
        int[][] got = new int[threads][per];
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            ts.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < per; i++) {
                    got[id][i] = r.allocBuf();
                }
            }));
        }
        for (Thread t : ts) {
            t.join();
        }
        Set<Integer> all = new HashSet<>();
        for (int[] g : got) {
            for (int b : g) {
                assertTrue(r.isValidBuf(b));
                assertTrue(all.add(b));
            }
        }
        assertEquals(0, r.freeBufs());
        assertEquals(0, r.allocBuf(), "an empty pool answers 0");
    }
}
