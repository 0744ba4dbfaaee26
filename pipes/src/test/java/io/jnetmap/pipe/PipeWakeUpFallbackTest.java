package io.jnetmap.pipe;

import io.jnetmap.core.Children;
import io.jnetmap.core.ReadableClassPath;
import io.jnetmap.core.Ring;
import io.jnetmap.poll.Pollable;
import io.jnetmap.poll.Poller;
import io.jnetmap.poll.WaitStrategy;
import io.jnetmap.sys.Linux;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Wake-ups across processes where {@code pidfd_getfd} is refused — as between sibling processes under
 * Ubuntu's Yama ptrace_scope=1 or in a container's seccomp profile; here, really, by a peer that lacks
 * CAP_SYS_PTRACE and so cannot ptrace a process with more capabilities than its own: the peer gets the
 * descriptor from this process's {@link WakeFdServer} by SCM_RIGHTS, and a receiver sleeping with no
 * timeout is woken for every packet. Also: another user is refused, and only published descriptors are
 * handed out. Needs root (setpriv).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PipeWakeUpFallbackTest {
    /** Root without CAP_SYS_PTRACE (same uid, so it may open the region's 0600 file). */
    private static final List<String> NO_PTRACE = List.of("setpriv", "--inh-caps=-all", "--bounding-set=-sys_ptrace", "--");
    private static final List<String> NOBODY = List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--");

    @BeforeAll
    static void root() {
        assertEquals(0, Linux.geteuid(), "these tests drop privileges with setpriv and must run as root");
    }

    private static Process start(List<String> prefix, String classPath, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(List.of(ProcessHandle.current().info().command().orElse("java"), "--enable-native-access=ALL-UNNAMED",
                "-XX:-UsePerfData", "-Xmx128m", "-cp", classPath, WakeFdProbe.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    private static String finish(Process p) throws Exception {
        return Children.finish(p, 60).output().trim();
    }

    private static String probe(List<String> prefix, String classPath, String... args) throws Exception {
        return finish(start(prefix, classPath, args));
    }

    /** The descriptor number {@code end} published in its RX ring for its peer to wake it with. */
    private static int publishedFd(PipePort end) {
        return end.region().memory().get(JAVA_INT, end.rxRing(0).offset() + PipeLayout.EVENT_FD_OFFSET);
    }

    @Test
    void aPeerThatPidfdGetfdRefusesGetsThePublishedDescriptorBySocket() throws Exception {
        String p = Pipes.uniqueParent();
        String cp = System.getProperty("java.class.path");
        String pid = Long.toString(ProcessHandle.current().pid());
        try (PipePort rx = Pipes.open(p + "}1")) {
            String fd = Integer.toString(publishedFd(rx));
            String refused = probe(NO_PTRACE, cp, "pidfd", pid, fd);
            assertTrue(refused.startsWith("EPERM"), "without CAP_SYS_PTRACE pidfd_getfd is refused: " + refused);
            assertEquals("ok", probe(NO_PTRACE, cp, "socket", pid, fd));
            String notOffered = probe(NO_PTRACE, cp, "socket", pid, "0");
            assertTrue(notOffered.startsWith("EBADF"), "only published descriptors are handed out: " + notOffered);
        }
    }

    @Test
    void anotherUserIsRefused() throws Exception {
        try (ReadableClassPath cp = ReadableClassPath.copy(); PipePort rx = Pipes.open(Pipes.uniqueParent() + "}1")) {
            String out = probe(NOBODY, cp.classPath(),
                    "socket", Long.toString(ProcessHandle.current().pid()), Integer.toString(publishedFd(rx)));
            assertTrue(out.startsWith("EACCES"), "uid 65534 may not take root's descriptors: " + out);
        }
    }

    @Test
    void aReceiverSleepingWithoutTimeoutIsWokenByAPeerThatPidfdGetfdRefuses() throws Exception {
        String p = Pipes.uniqueParent();
        int n = 300;
        try (PipePort rx = Pipes.open(p + "}1"); Poller in = new Poller(WaitStrategy.block())) {
            in.add(rx.pollable(), Pollable.IN);
            Process sender = start(NO_PTRACE, System.getProperty("java.class.path"), "send", p + "{1", Integer.toString(n));
            try {
                Ring r = rx.rxRing(0);
                int expected = 0;
                int sleeps = 0;
                while (expected < n) {
                    if (r.space() == 0) {
                        sleeps++;
                        // a lost wake-up shows as this poll running into its timeout
                        assertTrue(in.poll(20, TimeUnit.SECONDS) > 0, "woken by the peer, not by the timeout, after packet " + expected);
                        continue;
                    }
                    for (int i = r.head(); i != r.tail(); i = r.nextSlot(i)) {
                        assertEquals(expected++, r.memory().get(JAVA_INT_UNALIGNED, r.bufOffset(i)));
                    }
                    r.advanceTo(r.tail());
                    r.sync();
                }
                String out = finish(sender);
                assertTrue(out.startsWith("sent " + n + " bysocket "), out);
                String[] w = out.split(" ");
                assertTrue(Long.parseLong(w[3]) >= 1, "the sender took our descriptor by SCM_RIGHTS: " + out);
                assertEquals("0", w[5], out);
                assertTrue(sleeps >= n / 2, "the receiver slept between packets (" + sleeps + " sleeps)");
            } finally {
                sender.destroyForcibly();
            }
        }
    }
}
