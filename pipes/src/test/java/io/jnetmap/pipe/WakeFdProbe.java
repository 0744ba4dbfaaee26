package io.jnetmap.pipe;

import io.jnetmap.core.Ring;
import io.jnetmap.poll.Pollable;
import io.jnetmap.poll.Poller;
import io.jnetmap.poll.WaitStrategy;
import io.jnetmap.sys.Linux;
import io.jnetmap.sys.SyscallException;

/**
 * A second JVM for {@link PipeWakeUpFallbackTest}, started with fewer privileges than the test JVM.
 * Prints one line and exits 0:
 * <ul>
 *   <li>{@code pidfd PID FD}: {@code ok} if pidfd_getfd gives a duplicate of FD of PID, else the errno name;</li>
 *   <li>{@code socket PID FD}: the same through PID's {@link WakeFdServer};</li>
 *   <li>{@code send END N}: opens pipe end END, sends N packets one per txsync, 2 ms apart, waiting
 *       for ring space in a blocking Poller with no timeout; prints
 *       {@code sent N bysocket K failures F} (descriptors fetched by SCM_RIGHTS, descriptors not obtained).</li>
 * </ul>
 */
public final class WakeFdProbe {
    private WakeFdProbe() {
    }

    public static void main(String[] args) throws Exception {
        try {
            System.out.println(switch (args[0]) {
                case "pidfd" -> {
                    int pidfd = Linux.pidfdOpen(Integer.parseInt(args[1]));
                    try {
                        Linux.close(Linux.pidfdGetfd(pidfd, Integer.parseInt(args[2])));
                        yield "ok";
                    } finally {
                        Linux.close(pidfd);
                    }
                }
                case "socket" -> {
                    Linux.close(WakeFdServer.fetch(Integer.parseInt(args[1]), Integer.parseInt(args[2])));
                    yield "ok";
                }
                case "send" -> send(args[1], Integer.parseInt(args[2]));
                default -> throw new IllegalArgumentException(args[0]);
            });
        } catch (SyscallException e) {
            System.out.println(e.errnoName() + " " + e.getMessage());
        }
        System.out.flush();
        System.exit(0);
    }

    private static String send(String end, int n) throws InterruptedException {
        try (PipePort tx = (PipePort) io.jnetmap.core.Netmap.open(end); Poller out = new Poller(WaitStrategy.block())) {
            out.add(tx.pollable(), Pollable.OUT);
            Ring t = tx.txRing(0);
            for (int k = 0; k < n; k++) {
                while (t.space() == 0) {
                    out.poll(Poller.FOREVER);
                }
                int i = t.head();
                t.memory().set(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, t.bufOffset(i), k);
                t.setSlot(i, 60, 0);
                t.advanceTo(t.nextSlot(i));
                t.sync();
                Thread.sleep(2);
            }
            return "sent " + n + " bysocket " + tx.wakeupDescriptorsBySocket() + " failures " + tx.wakeupFailures();
        }
    }
}
