package io.jnetmap.pipe;

import io.jnetmap.core.Ring;
import io.jnetmap.poll.Pollable;
import io.jnetmap.poll.Poller;
import io.jnetmap.poll.WaitStrategy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The second JVM of the cross-process tests: forwards between two pipe ends it opens, by swapping
 * buffers (zero copy), sleeping in a {@link Poller} whenever there is nothing to do, so that every
 * exchange with the test JVM also exercises cross-process wake-ups. Commands on stdin, one per line:
 * {@code fwd IN OUT} (answers {@code ready}), {@code close} (answers {@code closed}), {@code vandal END}
 * (opens END and writes garbage over every slot of its RX ring, as a broken or malicious peer would;
 * answers {@code done}); end of input exits. Exit code 0 = no error.
 */
public final class PipeForwarderChild {
    private PipeForwarderChild() {
    }

    /** Forwards from {@code in}'s RX ring to {@code out}'s TX ring until stopped. */
    static final class Forwarder extends Thread {
        final PipePort in;
        final PipePort out;
        volatile boolean running = true;
        volatile Throwable failure;

        Forwarder(String inName, String outName) {
            super("forwarder");
            in = (PipePort) io.jnetmap.core.Netmap.open(inName);
            out = (PipePort) io.jnetmap.core.Netmap.open(outName);
        }

        @Override
        public void run() {
            WaitStrategy s = WaitStrategy.spinThenBlock(Duration.ofMillis(1));
            try (Poller waitIn = new Poller(s); Poller waitOut = new Poller(s)) {
                waitIn.add(in.pollable(), Pollable.IN);
                waitOut.add(out.pollable(), Pollable.OUT);
                Ring rx = in.rxRing(0);
                Ring tx = out.txRing(0);
                long wait = TimeUnit.MILLISECONDS.toNanos(50);
                while (running) {
                    if (rx.space() == 0) {
                        waitIn.poll(wait);
                        continue;
                    }
                    if (tx.space() == 0) {
                        waitOut.poll(wait);
                        continue;
                    }
                    int n = Math.min(rx.space(), tx.space());
                    Ring.forward(rx, tx, n, true);
                    tx.sync();
                    rx.sync();
                }
            } catch (Throwable t) {
                failure = t;
            }
        }

        void finish() throws InterruptedException {
            running = false;
            join(10_000);
            in.close();
            out.close();
            if (failure != null) {
                throw new IllegalStateException("forwarder failed", failure);
            }
        }
    }

    public static void main(String[] args) throws Exception {
        BufferedReader cmds = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        Forwarder fwd = null;
        PipePort vandal = null;
        try {
            for (String line; (line = cmds.readLine()) != null; ) {
                String[] w = line.trim().split(" ");
                switch (w[0]) {
                    case "fwd" -> {
                        fwd = new Forwarder(w[1], w[2]);
                        fwd.start();
                        System.out.println("ready");
                    }
                    case "vandal" -> {
                        vandal = (PipePort) io.jnetmap.core.Netmap.open(w[1]);
                        Ring rx = vandal.rxRing(0);
                        for (int i = 0; i < rx.numSlots(); i++) {
                            rx.setBufIdx(i, -1);
                        }
                        System.out.println("done");
                    }
                    case "close" -> {
                        if (fwd != null) {
                            fwd.finish();
                            fwd = null;
                        }
                        if (vandal != null) {
                            vandal.close();
                            vandal = null;
                        }
                        System.out.println("closed");
                    }
                    default -> throw new IllegalArgumentException("unknown command: " + line);
                }
                System.out.flush();
            }
            if (fwd != null) {
                fwd.finish();
            }
        } catch (Throwable t) {
            t.printStackTrace();
            System.out.println("error " + t);
            System.out.flush();
            System.exit(3);
        }
        System.exit(0);
    }
}
