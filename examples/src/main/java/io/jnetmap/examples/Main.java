package io.jnetmap.examples;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * Entry point of {@code bin/jnetmap TOOL [ARGS]}: the tools are picocli subcommands of this one, so
 * {@code bin/jnetmap --help} lists them and every tool behaves as {@link Cli} describes. Every tool
 * prints the backend of each port it opens.
 */
@Command(name = "jnetmap", mixinStandardHelpOptions = true, synopsisSubcommandLabel = "TOOL [ARGS]",
        description = "netmap for the JVM: the tools. bin/jnetmap TOOL --help describes a tool's options.",
        commandListHeading = "%nTools:%n",
        subcommands = {Demo.class, Info.class, PktGen.class, Bridge.class, Main.CaptureTool.class, Main.ReplayTool.class, ValeCtlTool.class,
            SelfTest.class, Lb.class, Tlem.class, FirewallTool.class, NatTool.class, Switchd.class,
            HelpCommand.class})
public final class Main implements Runnable {
    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine(System.out, System.err).execute(args));
    }

    /** The dispatcher with every tool, output on {@code out}, errors on {@code err}. */
    public static CommandLine commandLine(PrintStream out, PrintStream err) {
        CommandLine cl = Cli.commandLine(new Main(), out, err);
        CommandLine capture = cl.getSubcommands().get("capture");
        capture.getCommandSpec().usageMessage().description(Capture.class.getAnnotation(Command.class).description());
        capture.setStopAtUnmatched(true);
        cl.getSubcommands().get("replay").setStopAtUnmatched(true);
        return cl;
    }

    /** No tool named: a usage error. */
    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "no tool given (expected one of: "
                + String.join(", ", spec.subcommands().keySet().stream().filter(n -> !n.equals("help")).toList()) + ")");
    }

    /**
     * Capture's own {@link Capture#run}, unparsed arguments and all: its messages go to standard error
     * (the pcap file may be standard output), its help and version to standard output. Capture does the
     * rest (through {@link #execute}) the way every tool does; once it takes its output from {@link Cli}
     * like the others, {@code Capture.class} replaces this in the subcommand list.
     */
    @Command(name = "capture")
    static final class CaptureTool implements Callable<Integer> {
        @Unmatched
        List<String> args = new ArrayList<>();

        @Override
        public Integer call() {
            return Capture.run(args.toArray(String[]::new), System.out, System.err); // lines and help on stdout, messages on stderr
        }
    }

    /** {@code replay}, run by {@link Replay#run} with the raw arguments, as capture is. */
    @Command(name = "replay", description = "netmap's nmreplay: a pcap/pcapng file into a port, at the recorded pace, "
            + "sped up, at a rate or flat out")
    static final class ReplayTool implements Callable<Integer> {
        @Unmatched
        List<String> args = new ArrayList<>();

        @Override
        public Integer call() {
            boolean asked = args.stream().anyMatch(a -> List.of("-h", "--help", "-V", "--version").contains(a));
            return Replay.run(args.toArray(String[]::new), asked ? System.out : System.err);
        }
    }

    /** Capture's way to {@link Cli#execute} (the other tools call it directly). */
    static int execute(String tool, Object command, String[] args, PrintStream out, PrintStream err) {
        return Cli.execute(command, args, out, err);
    }
}
