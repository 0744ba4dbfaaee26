package io.jnetmap.examples;

import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * How every tool runs: one picocli command line with the same behaviour everywhere.
 * <ul>
 *   <li>{@code -h}/{@code --help}: the tool's usage on standard output, exit 0 ({@code vale-ctl}'s
 *       {@code -h} is netmap's attach-with-host-stack, so there only {@code -h} without a value and
 *       {@code --help} are help);</li>
 *   <li>{@code -V}/{@code --version}: {@code jnetmap VERSION} (the project version, from a resource
 *       Maven filters), exit 0;</li>
 *   <li>a bad command line: one line {@code tool: message (bin/jnetmap tool --help)} on standard error,
 *       exit 2;</li>
 *   <li>a failure while running: one line {@code tool: message} on standard error, exit 1, and the
 *       stack trace only when the tool has {@code -v} and it was given.</li>
 * </ul>
 */
public final class Cli {
    /** Exit code of a tool that did its job. */
    public static final int OK = 0;
    /** Exit code of a tool that failed while running (a port that cannot be opened, a system call that failed). */
    public static final int FAILED = 1;
    /** Exit code of a bad command line. */
    public static final int USAGE = 2;

    /** A tool with a {@code -v} option: when it is on, a failure also prints its stack trace. */
    public interface Verbose {
        boolean verbose();
    }

    /**
     * A tool whose options are actions done in the order given, each of which may be repeated
     * ({@code vale-ctl -a A -n B -a C}): picocli calls its option setters once per occurrence.
     */
    public interface InOrder {
    }

    private Cli() {
    }

    /** Runs {@code command} (a picocli command object) on {@code args}; returns the exit code. */
    public static int execute(Object command, String[] args, PrintStream out, PrintStream err) {
        return commandLine(command, out, err).execute(args);
    }

    /**
     * The command line of {@code command} and its subcommands: output and help on {@code out}, errors on
     * {@code err}, the handlers above, the project version, and no {@code @file} expansion (an argument
     * is a port name, never a file of arguments).
     */
    public static CommandLine commandLine(Object command, PrintStream out, PrintStream err) {
        CommandLine cl = new CommandLine(command);
        cl.setExpandAtFiles(false);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        cl.setParameterExceptionHandler(Cli::usageError);
        cl.setExecutionExceptionHandler(Cli::failure);
        configure(cl);
        return cl;
    }

    /** The project's version ({@code version.properties}, filtered by Maven), or "unknown" if the resource is missing. */
    public static String version() {
        try (InputStream in = Cli.class.getResourceAsStream("version.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What {@code bin/jnetmap TOOL --help} is for {@code cmd}. */
    static String helpHint(CommandLine cmd) {
        boolean dispatcher = cmd.getParent() == null && !cmd.getSubcommands().isEmpty();
        return "bin/jnetmap " + (dispatcher ? "" : cmd.getCommandName() + " ") + "--help";
    }

    /** The version for {@code -V} of {@code cl} and its subcommands; repeated options for {@link InOrder} tools. */
    private static void configure(CommandLine cl) {
        String line = "jnetmap " + version();
        cl.getCommandSpec().versionProvider(() -> new String[] {line});
        if (cl.getCommand() instanceof InOrder) {
            cl.setOverwrittenOptionsAllowed(true);
        }
        cl.getSubcommands().values().forEach(Cli::configure);
    }

    private static int usageError(ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        String message = e.getMessage();
        if (e instanceof UnmatchedArgumentException u && !cmd.getSubcommands().isEmpty() && !u.getUnmatched().isEmpty()
                && args.length > 0 && u.getUnmatched().get(0).equals(args[0])) {
            message = "unknown tool \"" + args[0] + "\" (expected one of: " + String.join(", ", cmd.getSubcommands().keySet()) + ")";
        }
        cmd.getErr().println(cmd.getCommandName() + ": " + message + " (" + helpHint(cmd) + ")");
        return USAGE;
    }

    private static int failure(Exception e, CommandLine cmd, ParseResult parsed) {
        String message = ToolFailure.message(e);
        PrintWriter err = cmd.getErr();
        err.println(cmd.getCommandName() + ": " + message);
        if (cmd.getCommand() instanceof Verbose v && v.verbose()) {
            e.printStackTrace(err);
        }
        err.flush();
        return FAILED;
    }
}
