package io.jnetmap.vale;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.vale.lookup.LearningBridge;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static io.jnetmap.vale.Frames.mac;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The control queue: light requests run between a forwarder's batches even while the housekeeping
 * thread cannot run; heavy ones only on the housekeeper; every request exactly once, in order.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ControlRequestsTest {

    private static void await(CountDownLatch l) {
        try {
            l.await();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void lightRequestsApplyInTheSendersTxsyncHeavyOnesWaitForTheHousekeeper() throws Exception {
        String sw = Names.unique("valecr");
        try (ValeSwitch s = ValeSwitches.create(sw, new LearningBridge()); Port a = Netmap.open(sw + ":a");
             Port b = Netmap.open(sw + ":b")) {
            List<String> ran = new CopyOnWriteArrayList<>();
            AtomicReference<Thread> lightThread = new AtomicReference<>();
            synchronized (ValeSwitches.CONFIG) { // the housekeeper drains under CONFIG: it is shut out
                assertTrue(SwitchAdmin.submitLight(() -> {
                    lightThread.set(Thread.currentThread());
                    ran.add("light1");
                }));
                Frames.send(a, Frames.BROADCAST, mac(1), 4);
                assertSame(Thread.currentThread(), lightThread.get(), "applied in the sender's txsync, between batches");
                assertEquals(List.of("light1"), ran);

                assertTrue(SwitchAdmin.submit(() -> ran.add("heavy")));
                assertTrue(SwitchAdmin.submitLight(() -> ran.add("light2")));
                Frames.send(a, Frames.BROADCAST, mac(1), 4);
                Frames.send(b, Frames.BROADCAST, mac(2), 4);
                assertEquals(List.of("light1"), ran, "a heavy request never runs in a forwarder; the light one behind it waits");
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (ran.size() < 3 && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertEquals(List.of("light1", "heavy", "light2"), ran, "the housekeeper ran both, in order");
        }
    }

    @Test
    void everyRequestRunsExactlyOnceInOrderWhileForwardersAndTheHousekeeperCompete() throws Exception {
        String sw = Names.unique("valecr");
        int producers = 3;
        int perProducer = 3000;
        try (ValeSwitch s = ValeSwitches.create(sw, new LearningBridge()); Port a = Netmap.open(sw + ":a");
             Port b = Netmap.open(sw + ":b"); Port c = Netmap.open(sw + ":c")) {
            AtomicBoolean stop = new AtomicBoolean();
            Thread[] senders = new Thread[2];
            Port[] from = {a, b};
            for (int i = 0; i < senders.length; i++) {
                Port p = from[i];
                long src = mac(10 + i);
                senders[i] = Thread.ofPlatform().daemon().name("sender" + i).start(() -> {
                    while (!stop.get()) {
                        Frames.send(p, mac(99), src, 16); // unknown destination: floods, drops where full
                    }
                });
            }
            int[][] runs = new int[producers][perProducer];
            int[] next = new int[producers];
            AtomicInteger outOfOrder = new AtomicInteger();
            AtomicInteger byForwarders = new AtomicInteger();
            AtomicInteger done = new AtomicInteger();
            Thread[] ps = new Thread[producers];
            CountDownLatch secondHalf = new CountDownLatch(1);
            synchronized (ValeSwitches.CONFIG) { // first half: the housekeeper shut out from the start, only forwarders apply
                for (int p = 0; p < producers; p++) {
                    int id = p;
                    ps[p] = Thread.ofPlatform().daemon().start(() -> {
                        for (int i = 0; i < perProducer; i++) {
                            if (i == perProducer / 2) {
                                await(secondHalf);
                            }
                            int k = i;
                            // plain fields: one consumer at a time, handed over by the queue's release/acquire
                            Runnable task = () -> {
                                runs[id][k]++;
                                if (next[id] != k) {
                                    outOfOrder.incrementAndGet();
                                }
                                next[id] = k + 1;
                                if (Thread.currentThread().getName().startsWith("sender")) {
                                    byForwarders.incrementAndGet();
                                }
                                done.incrementAndGet();
                            };
                            boolean heavy = k >= perProducer / 2 && k % 50 == 49; // the first half all light
                            while (!(heavy ? SwitchAdmin.submit(task) : SwitchAdmin.submitLight(task))) {
                                Thread.onSpinWait(); // full: retry
                            }
                            if (k % 64 == 0) {
                                Thread.yield();
                            }
                        }
                    });
                }

                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (done.get() < producers * perProducer / 2 && System.nanoTime() < deadline) {
                    Thread.sleep(1);
                }
                assertEquals(producers * perProducer / 2, done.get(), "the forwarders applied the first half alone");
            }
            secondHalf.countDown(); // second half: light and heavy, forwarders and the housekeeper compete
            for (Thread t : ps) {
                t.join();
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (done.get() < producers * perProducer && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            stop.set(true);
            for (Thread t : senders) {
                t.join();
            }
            assertEquals(producers * perProducer, done.get(), "every request ran");
            for (int p = 0; p < producers; p++) {
                for (int i = 0; i < perProducer; i++) {
                    assertEquals(1, runs[p][i], "request " + i + " of producer " + p + " ran once");
                }
            }
            assertEquals(0, outOfOrder.get(), "each producer's requests ran in the order offered");
            assertTrue(byForwarders.get() >= producers * perProducer / 2, "forwarders applied at least the first half");
            System.out.println("ControlRequestsTest: " + byForwarders.get() + " of " + done.get() + " requests applied by forwarders");
        }
    }
}
