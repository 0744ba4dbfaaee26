package io.jnetmap.test;

import io.jnetmap.examples.Main;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What the README shows works as shown: every {@code ```java} block (imports, then statements) compiles
 * against the project's classes and runs to the end in a JVM of its own, leaving no shared region
 * behind; every shell line that starts a tool in the background with {@code &} ends by itself.
 */
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class ReadmeTest {
    private static final Path README = Path.of(System.getProperty("user.dir")).getParent().resolve("README.md");
    private static final String JAVA = ProcessHandle.current().info().command().orElse("java");

    /** A fenced block of the README: its language, the line of its first content line, its text. */
    record Block(String lang, int line, List<String> lines) {
        @Override
        public String toString() {
            return "README.md:" + line + " (```" + lang + ")";
        }
    }

    static List<Block> blocks(String lang) throws IOException {
        List<String> all = Files.readAllLines(README);
        List<Block> found = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            if (!all.get(i).equals("```" + lang)) {
                continue;
            }
            int start = i + 1;
            List<String> body = new ArrayList<>();
            for (i = start; i < all.size() && !all.get(i).equals("```"); i++) {
                body.add(all.get(i));
            }
            assertTrue(i < all.size(), "the block at README.md:" + start + " is closed");
            found.add(new Block(lang, start + 1, body));
        }
        return found;
    }

    /** A snippet as a class: its imports on top, its statements as the body of {@code main}. */
    private static String source(String className, Block b) {
        StringBuilder imports = new StringBuilder();
        StringBuilder body = new StringBuilder();
        for (String l : b.lines()) {
            (l.startsWith("import ") ? imports : body).append(l).append('\n');
        }
        return imports + "public class " + className + " {\n    public static void main(String[] args) throws Throwable {\n"
                + body + "    }\n}\n";
    }

    @Test
    void javaSnippetsCompileAndRun() throws Exception {
        List<Block> snippets = blocks("java");
        assertTrue(snippets.size() >= 3, "the README shows Java: " + snippets);
        Path classes = Files.createTempDirectory("jnetmap-readme");
        Path shm = Files.createTempDirectory("jnetmap-readme-shm");
        try {
            List<JavaFileObject> units = new ArrayList<>();
            List<String> names = new ArrayList<>();
            for (int k = 0; k < snippets.size(); k++) {
                String name = "ReadmeSnippet" + k;
                String src = source(name, snippets.get(k));
                names.add(name);
                units.add(new SimpleJavaFileObject(URI.create("string:///" + name + ".java"), JavaFileObject.Kind.SOURCE) {
                    @Override
                    public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                        return src;
                    }
                });
            }
            JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
            DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
            boolean ok = javac.getTask(null, null, diagnostics, List.of("-proc:none", "-d", classes.toString(), "-classpath",
                    System.getProperty("java.class.path")), null, units).call();
            StringBuilder errors = new StringBuilder();
            for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
                if (d.getKind() == Diagnostic.Kind.ERROR) {
                    int k = names.indexOf(d.getSource().getName().replaceAll(".*/|\\.java$", ""));
                    errors.append(snippets.get(k)).append(": ").append(d.getMessage(null)).append(" at line ").append(d.getLineNumber())
                            .append(" of\n").append(source(names.get(k), snippets.get(k))).append('\n');
                }
            }
            assertTrue(ok && errors.isEmpty(), "the README's Java compiles:\n" + errors);

            for (int k = 0; k < snippets.size(); k++) {
                ProcessBuilder pb = new ProcessBuilder(JAVA, "--enable-native-access=ALL-UNNAMED", "-Xmx256m",
                        "-cp", classes + File.pathSeparator + System.getProperty("java.class.path"), names.get(k))
                        .redirectErrorStream(true);
                pb.environment().put("JNETMAP_DIR", shm.toString());
                Process p = pb.start();
                String out;
                try {
                    out = new String(p.getInputStream().readAllBytes());
                    assertTrue(p.waitFor(60, TimeUnit.SECONDS), snippets.get(k) + " ends");
                } finally {
                    p.destroyForcibly();
                }
                assertEquals(0, p.exitValue(), snippets.get(k) + " runs:\n" + out);
                assertFalse(out.isBlank(), snippets.get(k) + " says what it did");
                assertFalse(out.contains("WARNING") || out.contains("Exception"), snippets.get(k) + ":\n" + out);
                try (Stream<Path> left = Files.list(shm)) {
                    List<Path> regions = left.filter(f -> !f.getFileName().toString().startsWith(".")).toList();
                    assertEquals(List.of(), regions, snippets.get(k) + " leaves no shared region behind");
                }
            }
        } finally {
            delete(classes);
            delete(shm);
        }
    }

    @Test
    void shellLinesThatStartAToolInTheBackgroundEndByThemselves() throws Exception {
        Pattern count = Pattern.compile("-n (\\d+)");
        int ran = 0;
        for (Block b : blocks("sh")) {
            for (String line : b.lines()) {
                if (!line.matches(".*\\s&\\s+bin/jnetmap .*") || line.contains("ip netns")) { // a tool, then & and another tool
                    continue;
                }
                // the README's counts, cut to what a shared test machine sends in seconds
                Matcher m = count.matcher(line);
                String cmd = m.replaceAll(r -> "-n " + Math.min(Long.parseLong(r.group(1)), 2000));
                cmd = cmd.replace("bin/jnetmap", "jnetmap_tool");
                String script = "jnetmap_tool() { \"$JAVA\" --enable-native-access=ALL-UNNAMED -Xmx256m -cp \"$CP\" " + Main.class.getName()
                        + " \"$@\"; }\n" + cmd + "\nfg=$?\nwait $!\necho \"exit codes: $fg $?\"\n";
                Path shm = Files.createTempDirectory("jnetmap-readme-sh");
                try {
                    ProcessBuilder pb = new ProcessBuilder("bash", "-c", script).redirectErrorStream(true);
                    pb.environment().put("JAVA", JAVA);
                    pb.environment().put("CP", System.getProperty("java.class.path"));
                    pb.environment().put("JNETMAP_DIR", shm.toString());
                    Process p = pb.start();
                    String out;
                    try {
                        out = new String(p.getInputStream().readAllBytes());
                        if (!p.waitFor(180, TimeUnit.SECONDS)) {
                            fail(b + ": \"" + line + "\" did not end");
                        }
                    } finally {
                        p.descendants().forEach(ProcessHandle::destroyForcibly);
                        p.destroyForcibly();
                    }
                    assertTrue(out.contains("exit codes: 0 0"), b + ": \"" + cmd + "\" ends, both sides with 0:\n" + out);
                    long tools = line.split("bin/jnetmap", -1).length - 1;
                    assertEquals(tools, out.lines().filter(l -> l.startsWith("Speed: ")).count(),
                            "each pkt-gen printed its summary:\n" + out);
                } finally {
                    delete(shm);
                }
                ran++;
            }
        }
        assertTrue(ran >= 2, "the README's background examples were found (" + ran + ")");
    }

    private static void delete(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path f : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        }
    }
}
