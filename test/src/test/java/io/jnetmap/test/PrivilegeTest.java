package io.jnetmap.test;

import io.jnetmap.core.Children;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.ReadableClassPath;
import io.jnetmap.core.Region;
import io.jnetmap.sys.Linux;
import io.jnetmap.vale.ctl.ValeCtl;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Another user (uid 65534, by setpriv) with a region directory of its own whose entries point at this
 * user's region and counters files can neither open a region, nor map its file, nor post a request to
 * a switch's mailbox. (That it cannot take a wake-up descriptor over SCM_RIGHTS either is
 * PipeWakeUpFallbackTest's.) Needs root.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PrivilegeTest {
    private static String probe(ReadableClassPath cp, Path dir, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
                ProcessHandle.current().info().command().orElse("java"), "--enable-native-access=ALL-UNNAMED", "-XX:-UsePerfData",
                "-Xmx64m", "-cp", cp.classPath(), PrivilegeProbe.class.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("JNETMAP_DIR", dir.toString());
        return Children.finish(pb.start(), 60).output().trim();
    }

    @Test
    void anotherUserWithLinksToTheFilesIsRefusedEverything() throws Exception {
        assertEquals(0, Linux.geteuid(), "this test starts a child as uid 65534 and must run as root");
        String parent = PktGenTest.uniqueParent();
        String sw = ValeAcrossProcessesTest.uniqueSwitch();
        Path own = Files.createTempDirectory("jnetmap-nobody");
        try (ReadableClassPath cp = ReadableClassPath.copy(); Port pipe = Netmap.open(parent + "{1"); Port vale = Netmap.open(sw + ":a")) {
            Path region = Region.directory().resolve("pipe." + parent);
            Path stats = ValeCtl.find(sw).get(0).file();
            Files.createSymbolicLink(own.resolve("pipe." + parent), region);
            Files.createSymbolicLink(own.resolve("stats"), stats);
            Files.setPosixFilePermissions(own, PosixFilePermissions.fromString("rwxrwxrwx"));
            String open = probe(cp, own, "open", "pipe." + parent);
            String map = probe(cp, own, "map", own.resolve("pipe." + parent).toString());
            String mailbox = probe(cp, own, "mailbox", own.resolve("stats").toString());
            for (String out : new String[] {open, map, mailbox}) {
                assertTrue(out.startsWith("refused: "), out);
                assertTrue(out.contains("EACCES") || out.contains("AccessDenied") || out.contains("ermission denied"), out);
            }
            assertTrue(ValeCtl.find(sw).get(0).ports().size() == 1, "the switch is as it was");
        } finally {
            try (Stream<Path> s = Files.walk(own)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
