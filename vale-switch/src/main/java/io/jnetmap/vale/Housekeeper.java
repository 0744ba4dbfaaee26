package io.jnetmap.vale;

import io.jnetmap.sys.Linux;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * One daemon thread per process while it hosts switches: refreshes each switch's heartbeat in its
 * counters file and answers control requests other processes leave in the file's mailbox
 * ({@link ControlMailbox}). Never on a packet path.
 */
final class Housekeeper {
    static final long PERIOD_MS = 50;
    /** The current housekeeper; a thread that is no longer it exits. Written under Vale.CONFIG. */
    private static volatile Thread thread;

    private Housekeeper() {
    }

    /** Under Vale.CONFIG. */
    static void switchAdded() {
        if (thread == null) {
            thread = Thread.ofPlatform().daemon().name("vale-housekeeper").unstarted(Housekeeper::run);
            thread.start();
        }
    }

    /** Under Vale.CONFIG. */
    static void switchRemoved(boolean none) {
        Thread t = thread;
        if (none && t != null) {
            thread = null;
            LockSupport.unpark(t);
        }
    }

    /**
     * Detaches ports attached for a {@link RemotePort} whose process is gone, or whose polling thread
     * stopped on a failure (the other process broke the pipe's rules: it is cut off). Under Vale.CONFIG.
     */
    private static void reapOrphans(ValeSwitch sw) {
        for (SwitchPort p : sw.portList()) {
            if (p instanceof AttachedPort ap && ap.owner > 0 && (ap.failure() != null || !Linux.processAlive(ap.owner))) {
                sw.detach(ap.name());
            }
        }
    }

    private static void run() {
        long beat = 0;
        Thread self = Thread.currentThread();
        while (thread == self) {
            for (ValeSwitch sw : Vale.switches()) {
                synchronized (Vale.CONFIG) {
                    if (thread != self) {
                        return;
                    }
                    if (sw.isClosed()) {
                        continue;
                    }
                    if (beat % 2 == 0) {
                        sw.stats().heartbeat();
                    }
                    if (beat % 20 == 0) {
                        reapOrphans(sw);
                    }
                    ControlMailbox.serve(sw);
                }
            }
            beat++;
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(PERIOD_MS));
        }
    }
}
