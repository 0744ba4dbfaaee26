package io.jnetmap.vhost;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.poll.Pollable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The back-end against a front-end and driver played by the test ({@link FrontEnd}). */
class VhostPortTest {
    static final long WANT = VhostUser.F_VERSION_1 | VhostUser.F_NET_MRG_RXBUF | VhostUser.F_RING_EVENT_IDX
            | VhostUser.F_PROTOCOL_FEATURES;
    static final int RX = VhostUser.RX_QUEUE;
    static final int TX = VhostUser.TX_QUEUE;

    Path dir;
    String sock;
    VhostPort port;

    @BeforeEach
    void open() throws Exception {
        dir = Files.createTempDirectory("vhost-test");
        sock = dir.resolve("vm.sock").toString();
        port = (VhostPort) Netmap.open("vhost:" + sock + "@conf:slots=256");
    }

    @AfterEach
    void close() throws Exception {
        port.close();
        assertFalse(Files.exists(Path.of(sock)), "socket file removed at close");
        Files.deleteIfExists(dir);
    }

    static void await(BooleanSupplier cond, String what) throws InterruptedException {
        long end = System.nanoTime() + 5_000_000_000L;
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(2);
        }
    }

    FrontEnd started() throws Exception {
        FrontEnd fe = new FrontEnd(sock);
        fe.start(WANT);
        await(port::running, "both rings running");
        return fe;
    }

    /** Puts one frame (12-byte header + payload) in guest TX descriptor {@code d}; returns the payload. */
    static byte[] guestSends(FrontEnd fe, int d, int len, int seed) {
        long buf = FrontEnd.BUFS + 0x800L * d;
        byte[] frame = new byte[len];
        for (int i = 0; i < len; i++) {
            frame[i] = (byte) (seed + i * 7);
        }
        fe.mem.asSlice(buf, 12).fill((byte) 0);
        MemorySegment.copy(MemorySegment.ofArray(frame), 0, fe.mem, buf + 12, len);
        fe.desc(TX, d, buf, 12 + len, 0, 0);
        fe.makeAvailable(TX, d);
        return frame;
    }

    static byte[] bytes(Ring r, int slot) {
        MemorySegment b = r.buffer(slot);
        byte[] out = new byte[r.len(slot)];
        MemorySegment.copy(b, JAVA_BYTE, 0, out, 0, out.length);
        return out;
    }

    @Test
    void guestTransmitsAndReceivesThroughTheRings() throws Exception {
        try (FrontEnd fe = started()) {
            assertEquals(WANT, fe.features & WANT);
            // guest -> port
            byte[] a = guestSends(fe, 0, 60, 1);
            byte[] b = guestSends(fe, 1, 1514, 2);
            fe.kick[TX].signal();
            Ring rx = port.rxRing(0);
            await(() -> {
                port.rxSync();
                return rx.space() == 2;
            }, "two frames on the RX ring");
            int h = rx.head();
            assertEquals(a.length, rx.len(h));
            assertTrue(java.util.Arrays.equals(a, bytes(rx, h)));
            assertTrue(java.util.Arrays.equals(b, bytes(rx, rx.nextSlot(h))));
            assertEquals(2, fe.usedIdx(TX), "both chains returned to the guest");
            rx.advanceTo(rx.slotAfter(rx.head(), 2));
            port.rxSync();

            // port -> guest: two 2048-byte receive buffers
            for (int d = 0; d < 2; d++) {
                fe.desc(RX, d, FrontEnd.BUFS + 0x8000 + 0x800L * d, 2048, Virtqueue.DESC_F_WRITE, 0);
                fe.makeAvailable(RX, d);
            }
            Ring tx = port.txRing(0);
            int s = tx.head();
            MemorySegment buf = tx.buffer(s);
            for (int i = 0; i < 100; i++) {
                buf.set(JAVA_BYTE, i, (byte) (i ^ 0x5a));
            }
            tx.setLen(s, 100);
            tx.advanceTo(tx.nextSlot(tx.head()));
            port.txSync();
            assertEquals(1, fe.usedIdx(RX));
            assertEquals(0, fe.usedId(RX, 0));
            assertEquals(112, fe.usedLen(RX, 0), "12-byte header + frame");
            long at = FrontEnd.BUFS + 0x8000;
            assertEquals(1, fe.mem.get(JAVA_SHORT_UNALIGNED, at + 10), "num_buffers");
            for (int i = 0; i < 100; i++) {
                assertEquals((byte) (i ^ 0x5a), fe.mem.get(JAVA_BYTE, at + 12 + i));
            }
            assertTrue(fe.call[RX].drain(), "the guest was interrupted (it asked: used_event 0)");
            assertEquals(1, port.stats().txPackets());
            assertEquals(2, port.stats().rxPackets());
        }
    }

    @Test
    void mergeableBuffersAndBackPressure() throws Exception {
        try (FrontEnd fe = started()) {
            Ring tx = port.txRing(0);
            int s = tx.head();
            tx.buffer(s).fill((byte) 0x33);
            tx.setLen(s, 1000);
            tx.advanceTo(tx.nextSlot(tx.head()));
            port.txSync();
            assertEquals(0, fe.usedIdx(RX), "no receive buffers: nothing delivered");
            assertTrue(tx.space() < tx.numSlots() - 1, "held on the TX ring (back-pressure), not dropped");
            // 256-byte buffers: 12 + 1000 bytes take 4 of them
            for (int d = 0; d < 3; d++) {
                fe.desc(RX, d, FrontEnd.BUFS + 0x100L * d, 256, Virtqueue.DESC_F_WRITE, 0);
                fe.makeAvailable(RX, d);
            }
            port.txSync();
            assertEquals(0, fe.usedIdx(RX), "three buffers are not enough: still held, none consumed");
            fe.desc(RX, 3, FrontEnd.BUFS + 0x300, 256, Virtqueue.DESC_F_WRITE, 0);
            fe.makeAvailable(RX, 3);
            port.txSync();
            assertEquals(4, fe.usedIdx(RX));
            assertEquals(4, fe.mem.get(JAVA_SHORT_UNALIGNED, FrontEnd.BUFS + 10), "num_buffers");
            assertEquals(256, fe.usedLen(RX, 0));
            assertEquals(1012 - 3 * 256, fe.usedLen(RX, 3));
            assertEquals((byte) 0x33, fe.mem.get(JAVA_BYTE, FrontEnd.BUFS + 0x300 + (1012 - 3 * 256) - 1));
            assertEquals(0, port.stats().txDropsNoGuest());
        }
    }

    @Test
    void notificationsOnlyWhileTheUserSleeps() throws Exception {
        try (FrontEnd fe = started()) {
            Pollable p = port.pollable();
            int before = fe.availEvent(TX);
            assertEquals(0, p.arm(Pollable.IN));
            assertEquals(0, fe.availEvent(TX), "asleep: the guest is asked to kick at its next entry");
            guestSends(fe, 0, 60, 9);
            fe.kick[TX].signal(); // what the guest does when avail_event says so
            MemorySegment pfd = java.lang.foreign.Arena.ofAuto().allocate(8);
            pfd.set(java.lang.foreign.ValueLayout.JAVA_INT, 0, p.fd());
            pfd.set(java.lang.foreign.ValueLayout.JAVA_SHORT, 4, io.jnetmap.sys.Linux.POLLIN);
            assertEquals(1, io.jnetmap.sys.Linux.poll(pfd, 1, 2000), "the kick wakes the port's poll descriptor");
            p.disarm();
            assertEquals(Pollable.IN, p.pollNow(Pollable.IN));
            assertEquals(before, 0);
            assertEquals(0, io.jnetmap.sys.Linux.poll(pfd, 1, 0), "kick consumed at disarm");
        }
    }

    @Test
    void getVringBaseStopsAndAReconnectResumes() throws Exception {
        try (FrontEnd fe = started()) {
            guestSends(fe, 0, 60, 3);
            port.rxSync();
            port.rxRing(0).advanceTo(port.rxRing(0).tail()); // consumed
            assertEquals(1, fe.getVringBase(TX), "next avail index after one frame");
            assertFalse(port.running());
        }
        await(() -> !port.connected(), "disconnect seen");
        // the port sends into the void while no guest runs
        Ring tx = port.txRing(0);
        tx.setLen(tx.head(), 60);
        tx.advanceTo(tx.nextSlot(tx.head()));
        port.txSync();
        assertEquals(1, port.stats().txDropsNoGuest());
        try (FrontEnd fe = started()) {
            byte[] a = guestSends(fe, 0, 64, 4);
            Ring rx = port.rxRing(0);
            await(() -> {
                port.rxSync();
                return !rx.isEmpty();
            }, "frame after reconnect");
            assertTrue(java.util.Arrays.equals(a, bytes(rx, rx.head())));
            assertEquals(2, port.stats().connects());
        }
    }

    /**
     * A guest that kicks only when event index asks it to, against a port user that sleeps in poll
     * between bursts (as a switch's polling thread does): every frame arrives, nothing stalls.
     */
    @Test
    void eventIndexKicksKeepAStreamGoingWithASleepingUser() throws Exception {
        try (FrontEnd fe = started()) {
            int total = 3000;
            Thread guest = Thread.ofPlatform().start(() -> {
                int sent = 0;
                int used = 0;
                while (sent < total) {
                    int u = fe.usedIdx(TX);
                    used = u;
                    int inFlight = (fe.availIdx[TX] - used) & 0xffff;
                    if (inFlight >= FrontEnd.NUM - 1) {
                        Thread.onSpinWait();
                        continue;
                    }
                    int old = fe.availIdx[TX];
                    guestSends(fe, sent % FrontEnd.NUM, 60, sent);
                    sent++;
                    java.lang.invoke.VarHandle.fullFence();
                    int ev = fe.availEvent(TX);
                    if (((fe.availIdx[TX] - ev - 1) & 0xffff) < ((fe.availIdx[TX] - old) & 0xffff)) {
                        fe.kick[TX].signal();
                    }
                    if (sent % 64 == 0) {
                        try {
                            Thread.sleep(1);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }
            });
            Pollable p = port.pollable();
            MemorySegment pfd = java.lang.foreign.Arena.ofAuto().allocate(8);
            pfd.set(java.lang.foreign.ValueLayout.JAVA_INT, 0, p.fd());
            pfd.set(java.lang.foreign.ValueLayout.JAVA_SHORT, 4, io.jnetmap.sys.Linux.POLLIN);
            Ring rx = port.rxRing(0);
            int got = 0;
            long end = System.nanoTime() + 20_000_000_000L;
            while (got < total && System.nanoTime() < end) {
                port.rxSync();
                got += rx.space();
                rx.advanceTo(rx.tail());
                if (got < total && p.arm(Pollable.IN) == 0) {
                    if (io.jnetmap.sys.Linux.poll(pfd, 1, 5000) == 0) { // no timeout fallback worth the name: a lost kick stalls
                        System.err.println("STALL avail=" + fe.availIdx[TX] + " availEvent=" + fe.availEvent(TX) + " used="
                                + fe.usedIdx(TX) + " got=" + got + " rxPackets=" + port.stats().rxPackets() + " kick="
                                + fe.kick[TX].drain() + " now=" + p.pollNow(Pollable.IN));
                    }
                }
                p.disarm();
            }
            long took = System.nanoTime() - (end - 20_000_000_000L);
            guest.join(5000);
            assertEquals(total, got, "every frame arrived");
            assertTrue(took < 3_000_000_000L, "no lost kick (a lost one costs a 5 s poll): took " + took / 1_000_000 + " ms");
        }
    }

    // ------------------------------------------------------------------ a hostile guest

    /** Runs {@code hostile} as the guest's move; the port must cut it off, count it, and go on. */
    void cutOff(java.util.function.Consumer<FrontEnd> hostile, boolean viaTx) throws Exception {
        long before = port.stats().violations();
        try (FrontEnd fe = started()) {
            hostile.accept(fe);
            if (viaTx) {
                Ring tx = port.txRing(0);
                tx.setLen(tx.head(), 60);
                tx.advanceTo(tx.nextSlot(tx.head()));
                port.txSync();
            } else {
                port.rxSync();
            }
            assertEquals(before + 1, port.stats().violations(), "violation counted");
            assertFalse(port.running(), "guest cut off at once");
            assertTrue(fe.closedByBackEnd(), "connection dropped");
        }
        await(() -> !port.connected(), "disconnect");
        // the port goes on: a well-behaved guest connects and is served
        try (FrontEnd fe = started()) {
            byte[] a = guestSends(fe, 5, 70, 8);
            Ring rx = port.rxRing(0);
            await(() -> {
                port.rxSync();
                return !rx.isEmpty();
            }, "frame from the next guest");
            int last = (rx.tail() + rx.numSlots() - 1) % rx.numSlots();
            assertTrue(java.util.Arrays.equals(a, bytes(rx, last)));
            rx.setHead(rx.tail());
            rx.setCur(rx.tail());
            port.rxSync();
        }
        await(() -> !port.connected(), "disconnect");
    }

    @Test
    void descriptorLoop() throws Exception {
        cutOff(fe -> {
            fe.desc(TX, 0, FrontEnd.BUFS, 100, Virtqueue.DESC_F_NEXT, 1);
            fe.desc(TX, 1, FrontEnd.BUFS, 100, Virtqueue.DESC_F_NEXT, 0);
            fe.makeAvailable(TX, 0);
        }, false);
    }

    @Test
    void addressOutsideTheMemoryTable() throws Exception {
        cutOff(fe -> {
            fe.desc(TX, 0, FrontEnd.SIZE - 50, 100, 0, 0);
            fe.makeAvailable(TX, 0);
        }, false);
        cutOff(fe -> {
            fe.desc(TX, 0, -4096L, 8192, 0, 0); // wraps around 2^64
            fe.makeAvailable(TX, 0);
        }, false);
    }

    @Test
    void hugeLengthInAReceiveBuffer() throws Exception {
        cutOff(fe -> {
            fe.desc(RX, 0, FrontEnd.BUFS, 0xffff_ff00, Virtqueue.DESC_F_WRITE, 0);
            fe.makeAvailable(RX, 0);
        }, true);
    }

    @Test
    void indicesOutOfRange() throws Exception {
        cutOff(fe -> fe.makeAvailable(TX, FrontEnd.NUM + 3), false); // head >= num
        cutOff(fe -> {
            fe.desc(TX, 0, FrontEnd.BUFS, 100, Virtqueue.DESC_F_NEXT, 60000); // next >= num
            fe.makeAvailable(TX, 0);
        }, false);
        cutOff(fe -> fe.setAvailIdx(TX, 1000), false); // avail.idx jumps past num
    }

    @Test
    void wrongDirectionsAndShortHeader() throws Exception {
        cutOff(fe -> {
            fe.desc(TX, 0, FrontEnd.BUFS, 100, Virtqueue.DESC_F_WRITE, 0);
            fe.makeAvailable(TX, 0);
        }, false);
        cutOff(fe -> {
            fe.desc(RX, 0, FrontEnd.BUFS, 2048, 0, 0);
            fe.makeAvailable(RX, 0);
        }, true);
        cutOff(fe -> {
            fe.desc(TX, 0, FrontEnd.BUFS, 4, 0, 0);
            fe.makeAvailable(TX, 0);
        }, false);
        cutOff(fe -> {
            fe.desc(TX, 0, FrontEnd.BUFS, 100, Virtqueue.DESC_F_INDIRECT, 0);
            fe.makeAvailable(TX, 0);
        }, false);
    }

    @Test
    void badProtocolRequestsAreRefused() throws Exception {
        try (FrontEnd fe = new FrontEnd(sock)) {
            fe.start(WANT);
            assertTrue(fe.setState(VhostUser.SET_VRING_NUM, 0, 100) != 0, "num not a power of two");
            assertTrue(fe.setState(VhostUser.SET_VRING_NUM, 7, 256) != 0, "no ring 7");
            header(fe);
            assertEquals(0, port.stats().violations());
        }
    }

    private static void header(FrontEnd fe) {
        // ring addresses outside the memory table: refused with a failure ack
        fe.header(VhostUser.SET_VRING_ADDR, VhostUser.NEED_REPLY, 40);
        fe.ch.msg.set(java.lang.foreign.ValueLayout.JAVA_INT, 12, 0);
        fe.ch.msg.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 20, 0x1000);
        fe.ch.msg.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 28, 0x2000);
        fe.ch.msg.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 36, 0x3000);
        fe.ch.write();
        assertTrue(fe.replyU64(VhostUser.SET_VRING_ADDR) != 0);
    }

    @Test
    void portNameIsChecked() {
        Port p = null;
        try {
            p = Netmap.open("vhost:" + dir.resolve("x.sock") + "@conf:rings=2");
            throw new AssertionError("rings= accepted");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().contains("one ring pair"), e.getMessage());
        } finally {
            if (p != null) {
                p.close();
            }
        }
    }
}
