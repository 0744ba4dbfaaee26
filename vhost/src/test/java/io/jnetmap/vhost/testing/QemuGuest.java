package io.jnetmap.vhost.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A QEMU guest for the system tests and the {@code vhost} benchmarks (one launcher for both: it lives in
 * the vhost module's test-jar, never in the library): the Debian kernel booted directly with a busybox
 * initramfs built here (busybox-static and the kernel's virtio modules; no disk image), one virtio-net
 * device on any netdev (a vhost-user socket, a TAP), and a shell on the serial console that {@link #sh}
 * drives. Packages come from Debian ({@code qemu-system-x86}, {@code busybox-static},
 * {@code linux-image-amd64}, {@code cpio}) and are installed when missing.
 *
 * <p>Guests run under KVM when a KVM guest boots here, else under TCG, and {@link #accelReason()} says
 * why. On hosts whose {@code /dev/kvm} is PVM (the {@code kvm_pvm} module: pagetable-based
 * virtualization for machines without VT-x/AMD-V, as in Firecracker VMs with nested PVM) only kernels
 * built as PVM guests ({@code CONFIG_PVM_GUEST}) run; the Debian kernel is not one and never gets past
 * its firmware, so there the guests run under TCG.
 */
public final class QemuGuest implements AutoCloseable {
    private static final AtomicInteger COMMANDS = new AtomicInteger();
    private static final String[] MODULES = {"virtio_ring", "virtio", "virtio_pci_modern_dev", "virtio_pci_legacy_dev",
            "virtio_pci", "failover", "net_failover", "virtio_net", "pktgen"};
    private static Path initramfs;
    private static Path kernel;
    /** "kvm" when a KVM guest boots here, else "tcg". */
    private static String accel;
    private static String accelReason;

    private final String name;
    private final Process qemu;
    private final OutputStream in;
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final StringBuffer log = new StringBuffer();

    /**
     * Boots a guest whose NIC (MAC {@code mac}) connects to the vhost-user socket {@code socket} (QEMU is
     * the client), with {@code memMb} MiB of shared memory; returns once its shell answers (eth0 up, no
     * address).
     */
    public static QemuGuest onVhost(String name, String socket, String mac, int memMb) throws Exception {
        return new QemuGuest(name, null, List.of("-chardev", "socket,id=c0,path=" + socket), "vhost-user,id=n0,chardev=c0", mac, memMb);
    }

    /**
     * Boots a guest whose NIC (MAC {@code mac}) uses the netdev options {@code netdev} (id {@code n0},
     * e.g. {@code tap,id=n0,ifname=tap0,script=no,downscript=no}) plus {@code extra} QEMU arguments (such
     * as the chardev of a vhost-user netdev), QEMU run inside network namespace {@code ns} if not null;
     * returns once its shell answers (eth0 up, no address).
     */
    public QemuGuest(String name, String ns, List<String> extra, String netdev, String mac, int memMb) throws Exception {
        this.name = name;
        ensureImage();
        List<String> cmd = new ArrayList<>();
        if (ns != null) {
            cmd.addAll(List.of("ip", "netns", "exec", ns)); // execs QEMU: the pid stays QEMU's
        }
        cmd.addAll(List.of("qemu-system-x86_64",
                "-machine", "pc,accel=" + accel + ",memory-backend=mem", "-cpu", accel.equals("kvm") ? "kvm64" : "qemu64",
                "-smp", "1", "-m", memMb + "M",
                "-object", "memory-backend-memfd,id=mem,size=" + memMb + "M,share=on",
                "-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot",
                "-kernel", kernel.toString(), "-initrd", initramfs.toString(),
                "-append", "console=ttyS0 quiet loglevel=1 panic=-1 tsc=reliable"));
        cmd.addAll(extra);
        cmd.addAll(List.of("-netdev", netdev,
                // under TCG QEMU 7.2 crashes starting vhost with MSI-X (msix_set_vector_notifiers): INTx there
                "-device", "virtio-net-pci,netdev=n0,mac=" + mac + (accel.equals("kvm") ? "" : ",vectors=0")));
        qemu = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            in = qemu.getOutputStream();
            Thread.ofPlatform().daemon().name("guest-console-" + name).start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(qemu.getInputStream(), StandardCharsets.UTF_8))) {
                    String l;
                    while ((l = r.readLine()) != null) {
                        log.append(l).append('\n');
                        lines.add(l);
                    }
                } catch (IOException ignored) {
                    // the process ended
                }
                lines.add("\u0000EOF");
            });
            awaitLine("JNETMAP-GUEST-READY", 180);
            Thread.sleep(200);
            sh(":", 30); // the shell reads the console from here on (what was typed before it started may be lost)
        } catch (Throwable t) {
            close(); // a guest that did not come up is not left running
            throw t;
        }
    }

    /** QEMU's process id. */
    public long pid() {
        return qemu.pid();
    }

    /** Whether QEMU still runs. */
    public boolean alive() {
        return qemu.isAlive();
    }

    /** Kills QEMU with SIGKILL (no clean disconnect) and waits for it to be gone. */
    public void kill9() throws Exception {
        new ProcessBuilder("kill", "-9", Long.toString(qemu.pid())).inheritIO().start().waitFor();
        qemu.waitFor(10, TimeUnit.SECONDS);
    }

    /** Everything the console printed so far (for failure messages). */
    public String console() {
        return log.toString();
    }

    private String awaitLine(String marker, int seconds) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        StringBuilder got = new StringBuilder();
        while (true) {
            long left = end - System.nanoTime();
            String l = left > 0 ? lines.poll(left, TimeUnit.NANOSECONDS) : null;
            if (l == null) {
                throw new AssertionError(name + ": no \"" + marker + "\" within " + seconds + " s; console:\n" + console());
            }
            if (l.equals("\u0000EOF")) {
                throw new AssertionError(name + ": QEMU ended; console:\n" + console());
            }
            if (l.contains(marker)) {
                return got.toString();
            }
            got.append(l).append('\n');
        }
    }

    /** Result of a guest shell command. */
    public record Result(int status, String output) {
    }

    /** Runs {@code command} in the guest's shell; returns its status and output (within {@code seconds}). */
    public Result sh(String command, int seconds) throws Exception {
        int n = COMMANDS.incrementAndGet();
        String marker = "JNETMAP-DONE-" + n + "-";
        in.write(("   " + command + " 2>&1; echo " + marker + "$?\n").getBytes(StandardCharsets.UTF_8));
        in.flush();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        StringBuilder out = new StringBuilder();
        while (true) {
            long left = end - System.nanoTime();
            String l = left > 0 ? lines.poll(left, TimeUnit.NANOSECONDS) : null;
            if (l == null || l.equals("\u0000EOF")) {
                throw new AssertionError(name + ": \"" + command + "\" did not finish within " + seconds + " s; console:\n" + console());
            }
            int at = l.indexOf(marker);
            if (at >= 0 && !l.contains("echo " + marker)) {
                return new Result(Integer.parseInt(l.substring(at + marker.length()).trim()), out.toString());
            }
            out.append(l).append('\n');
        }
    }

    /** Runs {@code command}, asserting status 0; returns its output. */
    public String ok(String command, int seconds) throws Exception {
        Result r = sh(command, seconds);
        if (r.status() != 0) {
            throw new AssertionError(name + ": \"" + command + "\" exited " + r.status() + ":\n" + r.output());
        }
        return r.output();
    }

    /** Sends a line to the shell without waiting (for background jobs). */
    public void type(String line) throws IOException {
        in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        in.flush();
    }

    /** Kills QEMU (by its pid) if it still runs and waits for it. */
    @Override
    public void close() throws Exception {
        if (qemu.isAlive()) {
            qemu.destroyForcibly();
            qemu.waitFor(10, TimeUnit.SECONDS);
        }
    }

    // ------------------------------------------------------------------------------- the image

    /**
     * Builds the initramfs once (per JVM) for the Debian kernel this machine has under /boot with
     * modules under /lib/modules, installing the packages if missing, and chooses the accelerator.
     */
    public static synchronized void ensureImage() throws Exception {
        if (initramfs != null) {
            return;
        }
        ensurePackages();
        Path k = findKernel();
        if (k == null) {
            run(List.of("sh", "-c", "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-image-amd64"));
            k = findKernel();
            if (k == null) {
                throw new IllegalStateException("no /boot/vmlinuz-* with /lib/modules after installing linux-image-amd64");
            }
        }
        String release = k.getFileName().toString().substring("vmlinuz-".length());
        Path mods = Path.of("/lib/modules", release);
        Path root = Files.createTempDirectory("jnetmap-initramfs");
        try {
            for (String d : List.of("bin", "proc", "sys", "dev", "tmp", "lib/modules")) {
                Files.createDirectories(root.resolve(d));
            }
            Path busybox = Files.exists(Path.of("/bin/busybox")) ? Path.of("/bin/busybox") : Path.of("/usr/bin/busybox");
            Files.copy(busybox, root.resolve("bin/busybox"));
            StringBuilder insmod = new StringBuilder();
            for (String m : MODULES) {
                Path ko = findModule(mods, m);
                if (ko == null) {
                    continue; // built into this kernel
                }
                Files.copy(ko, root.resolve("lib/modules/" + m + ".ko"));
                insmod.append("[ -f /lib/modules/").append(m).append(".ko ] && insmod /lib/modules/").append(m).append(".ko\n");
            }
            String init = """
                    #!/bin/busybox sh
                    /bin/busybox --install -s /bin
                    mount -t proc proc /proc
                    mount -t sysfs sys /sys
                    mount -t devtmpfs dev /dev
                    %s
                    ip link set lo up
                    for i in 1 2 3 4 5 6 7 8 9 10; do [ -e /sys/class/net/eth0 ] && break; sleep 0.2; done
                    ip link set eth0 up
                    stty -echo 2>/dev/null
                    export PS1=''
                    echo JNETMAP-GUEST-READY
                    exec sh
                    """.formatted(insmod);
            Path initFile = root.resolve("init");
            Files.writeString(initFile, init);
            initFile.toFile().setExecutable(true);
            Path cpio = Files.createTempFile("jnetmap-initramfs", ".cpio");
            run(List.of("sh", "-c", "cd " + root + " && find . | cpio -o -H newc --quiet > " + cpio));
            cpio.toFile().deleteOnExit();
            accelReason = kvmUnusable(k);
            accel = accelReason == null ? "kvm" : "tcg";
            if (accelReason != null) {
                System.err.println("jnetmap: QEMU guests run under TCG: " + accelReason);
            }
            initramfs = cpio;
            kernel = k;
        } finally {
            run(List.of("rm", "-rf", root.toString()));
        }
    }

    /** The accelerator the guests use: "kvm" or "tcg". */
    public static String accel() {
        return accel;
    }

    /** Why the guests run under TCG (null under KVM). */
    public static String accelReason() {
        return accelReason;
    }

    /**
     * Null when a KVM guest gets as far as the kernel's first console line within 20 s, else why not:
     * no {@code /dev/kvm}; a {@code /dev/kvm} served by PVM only (which runs PVM guest kernels only); or
     * a guest that does not boot.
     */
    private static String kvmUnusable(Path k) throws Exception {
        if (!Files.exists(Path.of("/dev/kvm"))) {
            return "no /dev/kvm";
        }
        if (Files.isDirectory(Path.of("/sys/module/kvm_pvm")) && !Files.isDirectory(Path.of("/sys/module/kvm_intel"))
                && !Files.isDirectory(Path.of("/sys/module/kvm_amd"))) {
            return "/dev/kvm is PVM (module kvm_pvm, no kvm_intel/kvm_amd: no hardware virtualization in this VM), which runs"
                    + " only kernels built as PVM guests (CONFIG_PVM_GUEST); " + k.getFileName() + " is not one";
        }
        Process p = new ProcessBuilder("qemu-system-x86_64", "-machine", "pc,accel=kvm", "-cpu", "kvm64", "-m", "128M",
                "-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot",
                "-kernel", k.toString(), "-append", "console=ttyS0 panic=-1").redirectErrorStream(true).start();
        StringBuffer said = new StringBuffer();
        try {
            var done = new CompletableFuture<Boolean>();
            Thread.ofPlatform().daemon().start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    String l;
                    while ((l = r.readLine()) != null) {
                        if (l.contains("Linux version")) {
                            done.complete(true);
                            return;
                        }
                        said.append(l).append(' ');
                    }
                } catch (IOException ignored) {
                    // ended
                }
                done.complete(false);
            });
            try {
                return done.get(20, TimeUnit.SECONDS) ? null : "a KVM guest ended before its kernel printed: " + said.toString().strip();
            } catch (TimeoutException e) {
                return "/dev/kvm is there but a KVM guest printed no kernel line within 20 s (" + said.toString().strip() + ")";
            }
        } finally {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static Path findKernel() throws IOException {
        if (!Files.isDirectory(Path.of("/boot"))) {
            return null;
        }
        try (var s = Files.list(Path.of("/boot"))) {
            return s.filter(p -> p.getFileName().toString().startsWith("vmlinuz-"))
                    .filter(p -> Files.isDirectory(Path.of("/lib/modules", p.getFileName().toString().substring(8))))
                    .sorted().reduce((a, b) -> b).orElse(null);
        }
    }

    private static Path findModule(Path mods, String name) throws IOException {
        try (var s = Files.walk(mods)) {
            return s.filter(p -> p.getFileName().toString().equals(name + ".ko")).findFirst().orElse(null);
        }
    }

    private static void ensurePackages() throws Exception {
        List<String> missing = new ArrayList<>();
        if (!onPath("qemu-system-x86_64")) {
            missing.add("qemu-system-x86");
        }
        if (!Files.exists(Path.of("/bin/busybox")) && !Files.exists(Path.of("/usr/bin/busybox"))) {
            missing.add("busybox-static");
        }
        if (!onPath("cpio")) {
            missing.add("cpio");
        }
        if (!missing.isEmpty()) {
            run(List.of("sh", "-c", "DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive"
                    + " apt-get install -y -qq --no-install-recommends " + String.join(" ", missing)));
        }
    }

    private static boolean onPath(String cmd) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(d, cmd))) {
                return true;
            }
        }
        return false;
    }

    /** Runs {@code cmd}, failing with its output unless it exits 0 within 10 min; returns its output. */
    public static String run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(600, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed:\n" + out);
        }
        return out;
    }
}
