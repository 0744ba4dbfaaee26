package io.jnetmap.examples;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Entry point of {@code bin/jnetmap <tool> [args]}: one runnable class per tool, registered here.
 * Every tool prints the backend of each port it opens.
 */
public final class Main {
    /** A tool: its one-line description and its main method. */
    public record Tool(String description, Consumer<String[]> main) {
    }

    private static final Map<String, Tool> TOOLS = new LinkedHashMap<>();

    static {
        TOOLS.put("demo", new Tool("generators and sinks connected through jnetmap ports, with a summary", Demo::main));
        TOOLS.put("info", new Tool("port kinds available, shared regions and their users", Info::main));
        TOOLS.put("pkt-gen", new Tool("netmap's packet generator and sink: -i PORT -f tx|rx|ping|pong|txseq|rxseq", PktGen::main));
        TOOLS.put("bridge", new Tool("forward between two ports (or a NIC and its host stack), zero copy when they share memory", Bridge::main));
        TOOLS.put("capture", new Tool("tcpdump without libpcap: ports or files, pcap-filter expressions, pcap/pcapng or lines", Capture::main));
        TOOLS.put("replay", new Tool("netmap's nmreplay: a pcap/pcapng file into a port, at the recorded pace, sped up, at a rate or flat out", Replay::main));
        TOOLS.put("vale-ctl", new Tool("VALE switches: list ports and counters, attach/detach, persistent ports", ValeCtlTool::main));
    }

    private Main() {
    }

    /** The registered tools, in display order. */
    public static Map<String, Tool> tools() {
        return TOOLS;
    }

    public static void main(String[] args) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            usage();
            System.exit(args.length == 0 ? 2 : 0);
        }
        Tool tool = TOOLS.get(args[0]);
        if (tool == null) {
            System.err.println("jnetmap: unknown tool \"" + args[0] + "\" (expected one of: " + String.join(", ", TOOLS.keySet()) + ")");
            System.exit(2);
        }
        String[] rest = new String[args.length - 1];
        System.arraycopy(args, 1, rest, 0, rest.length);
        tool.main().accept(rest);
    }

    /**
     * Runs a picocli tool on {@code args} with its help and messages on {@code out} and errors on
     * {@code err}: a usage error exits 2; a {@link io.jnetmap.core.NetmapException},
     * {@link IllegalArgumentException} or {@link java.io.IOException} prints {@code "tool: message"} and exits 1.
     */
    static int execute(String tool, Object command, String[] args, java.io.PrintStream out, java.io.PrintStream err) {
        picocli.CommandLine cl = new picocli.CommandLine(command);
        cl.setOut(new java.io.PrintWriter(out, true));
        cl.setErr(new java.io.PrintWriter(err, true));
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof io.jnetmap.core.NetmapException || e instanceof IllegalArgumentException || e instanceof java.io.IOException) {
                cmd.getErr().println(tool + ": " + e.getMessage());
                return 1;
            }
            throw e;
        });
        return cl.execute(args);
    }

    private static void usage() {
        System.out.println("usage: bin/jnetmap <tool> [args]     (bin/jnetmap <tool> --help for a tool's options)");
        System.out.println();
        System.out.println("tools:");
        TOOLS.forEach((name, t) -> System.out.printf("  %-10s %s%n", name, t.description()));
    }
}
