package io.jnetmap.vale;

import io.jnetmap.poll.ProcessWatch;
import io.jnetmap.vale.ctl.Command;
import io.jnetmap.vale.ctl.ControlMailbox;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * One daemon thread per process while it hosts switches: refreshes each switch's heartbeat in its
 * counters file, answers control requests other processes leave in the file's mailbox
 * ({@link ControlMailbox}, run by {@link SwitchAdmin#execute}) and detaches what processes that died
 * had attached. Never on a packet path.
 *
 * <p>The death of a process that attached remote ports is seen at once (a pidfd per such process in
 * {@link ProcessWatch}), which wakes this thread to reap its ports; the periodic sweep (every second)
 * remains for relays cut off by a peer's fault.
 */
final class Housekeeper {
    static final long PERIOD_MS = 50;
    /** The current housekeeper; a thread that is no longer it exits. Written under ValeSwitches.CONFIG. */
    private static volatile Thread thread;
    /** Set by a watch when a client process died: reap before the next sweep. */
    private static volatile boolean reapNow;
    /** One pidfd watch per live process that attached remote ports. Under ValeSwitches.CONFIG. */
    private static final Map<Integer, ProcessWatch.Watch> CLIENTS = new HashMap<>();

    private Housekeeper() {
    }

    /** Under ValeSwitches.CONFIG. */
    static void switchAdded() {
        if (thread == null) {
            thread = Thread.ofPlatform().daemon().name("vale-housekeeper").unstarted(Housekeeper::run);
            thread.start();
        }
    }

    /**
     * Queues {@code task} in the control queue ({@link ControlRequests}; a light one may also run in a
     * forwarder) and wakes this thread, which runs it under ValeSwitches.CONFIG unless a forwarder did.
     * Never blocks: false if no thread runs (this process hosts no switch) or the queue is full.
     */
    static boolean offer(Runnable task, boolean light) {
        Thread t = thread;
        if (t == null || !ControlRequests.offer(task, light)) {
            return false;
        }
        LockSupport.unpark(t);
        return true;
    }

    /** Under ValeSwitches.CONFIG. */
    static void switchRemoved(boolean none) {
        Thread t = thread;
        if (none && t != null) {
            thread = null;
            LockSupport.unpark(t);
        }
    }

    /**
     * Undoes what processes that are gone had made through the mailbox: ports attached for their
     * {@link io.jnetmap.vale.ctl.RemotePort}s, their opens of this process's VALE ports, the monitors
     * served to them ({@link MonitorRelay}); also when the
     * relay or polling thread stopped on a failure (the other process broke the pipe's rules: it is
     * cut off). Under ValeSwitches.CONFIG.
     */
    private static void reapOrphans(ValeSwitch sw) {
        for (SwitchPort p : sw.portList()) {
            p.closeRemoteOpens(true);
        }
        MonitorRelay.reap(sw, false);
    }

    /** Answers the request waiting in {@code sw}'s mailbox, if any. Under ValeSwitches.CONFIG. */
    private static void serve(ValeSwitch sw) {
        var m = sw.stats().memory();
        ControlMailbox.Request r = ControlMailbox.pending(m);
        if (r == null) {
            return;
        }
        // through the control queue like every other request (drained later in this same pass)
        ControlRequests.offer(() -> {
            boolean ok = true;
            String reply;
            try {
                reply = SwitchAdmin.execute(sw, r.command(), r.arg(), r.client());
            } catch (RuntimeException e) {
                ok = false;
                reply = e.getMessage() != null ? e.getMessage() : e.toString();
            }
            ControlMailbox.answer(m, r, ok, reply);
            if (ok && (r.code() == Command.ATTACH_REMOTE.code() || r.code() == Command.ATTACH_MONITOR.code()) && r.client() > 0 && !CLIENTS.containsKey(r.client())) {
                watchClient(r.client()); // drained under ValeSwitches.CONFIG, as CLIENTS needs
            }
        }, false);
    }

    /** Wakes this thread to reap what process {@code pid} attached, as soon as it dies. Under ValeSwitches.CONFIG. */
    private static void watchClient(int pid) {
        if (pid == ProcessHandle.current().pid()) {
            return;
        }
        ProcessWatch.Watch w = ProcessWatch.onExit(pid, () -> {
            synchronized (ValeSwitches.CONFIG) {
                CLIENTS.remove(pid);
            }
            reapNow = true;
            Thread t = thread;
            if (t != null) {
                LockSupport.unpark(t);
            }
        });
        if (!w.fired()) { // (one already gone fired at once, on this thread)
            CLIENTS.put(pid, w);
        }
    }

    private static void run() {
        long beat = 0;
        Thread self = Thread.currentThread();
        while (thread == self) {
            boolean reap = reapNow;
            reapNow = false;
            for (ValeSwitch sw : ValeSwitches.switches()) {
                synchronized (ValeSwitches.CONFIG) {
                    if (thread != self) {
                        return;
                    }
                    if (sw.isClosed()) {
                        continue;
                    }
                    if (beat % 2 == 0) {
                        sw.stats().heartbeat();
                    }
                    if (reap || beat % 20 == 0) {
                        reapOrphans(sw);
                    }
                    serve(sw);
                }
            }
            synchronized (ValeSwitches.CONFIG) {
                if (thread != self) {
                    return;
                }
                ControlRequests.runAll();
            }
            beat++;
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(PERIOD_MS));
        }
    }
}
