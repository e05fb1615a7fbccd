package dev.accr.cli;

import dev.accr.api.AccrException;
import dev.accr.api.Untrusted;
import dev.accr.node.NodeClient;
import java.io.PrintWriter;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;

/** Builds the accr command line with injectable output streams (tests pass their own). */
public final class AccrCommandLine {
  private AccrCommandLine() {}

  public static CommandLine create(PrintWriter out, PrintWriter err) {
    return create(out, err, System.getenv());
  }

  /** The command line of an invocation whose environment is {@code env}. */
  public static CommandLine create(PrintWriter out, PrintWriter err, Map<String, String> env) {
    return create(out, err, env, null);
  }

  /**
   * The command line for {@code args}: when they name a command, that command is the only one
   * built (picocli reflects over each command it builds, which is most of a short command's
   * start-up); see {@link #commandsFor}. {@code args} null: every command.
   */
  static CommandLine create(PrintWriter out, PrintWriter err, Map<String, String> env,
      String[] args) {
    CommandLine cl = new CommandLine(new AccrCommand(env));
    for (String name : args == null ? AccrCommands.TOP.keySet() : commandsFor(args)) {
      // A CommandLine of its own applies the command's model transformer (bench has one),
      // which picocli does only in the constructor that users call.
      cl.addSubcommand(name, new CommandLine(AccrCommands.TOP.get(name)));
    }
    // Everything after the workload name belongs to the workload.
    if (cl.getSubcommands().containsKey("run")) {
      cl.getSubcommands().get("run").setStopAtPositional(true);
    }
    cl.setOut(out);
    cl.setErr(err);
    cl.setExecutionExceptionHandler((e, cmd, parseResult) -> report(e, cmd, err));
    cl.setHelpFactory(SpacedHelp::new);
    cl.setParameterExceptionHandler((e, unused) -> {
      err.println("accr: " + oneLine(message(e)) + suggestions(e));
      err.println("Try '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help'.");
      return AccrException.USAGE;
    });
    return cl;
  }

  /**
   * The commands to build for {@code args}: the one they invoke (the first argument that is
   * neither one of accr's own options nor an option's value), none for {@code --version}
   * alone, and all of them otherwise: for help, for a word that is no command (picocli then
   * suggests one) and for the commands that work on the whole tree.
   */
  static Collection<String> commandsFor(String[] args) {
    boolean version = false;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--log-file") || a.equals("--plugin-dir")) {
        i++; // the option's value
      } else if (a.equals("-h") || a.equals("--help")) {
        return AccrCommands.TOP.keySet();
      } else if (a.equals("-V") || a.equals("--version")) {
        version = true;
      } else if (a.equals("--")) {
        break;
      } else if (!a.startsWith("-")) {
        return AccrCommands.TOP.containsKey(a) && !AccrCommands.needsWholeTree(a) ? List.of(a)
            : AccrCommands.TOP.keySet();
      }
    }
    return version ? List.of() : AccrCommands.TOP.keySet();
  }

  /** picocli's message, or "unknown command 'x'" for a word where a command was expected. */
  private static String message(CommandLine.ParameterException e) {
    if (e instanceof CommandLine.UnmatchedArgumentException u && !u.getUnmatched().isEmpty()
        && !u.getUnmatched().getFirst().startsWith("-")
        && !u.getCommandLine().getSubcommands().isEmpty()) {
      return "unknown command '" + u.getUnmatched().getFirst() + "'";
    }
    return e.getMessage();
  }

  /** picocli's suggestions for a mistyped command or option: "; did you mean 'dump'?". */
  private static String suggestions(CommandLine.ParameterException e) {
    if (!(e instanceof CommandLine.UnmatchedArgumentException u) || u.getSuggestions().isEmpty()) {
      return "";
    }
    return "; did you mean " + String.join(" or ", u.getSuggestions().stream().limit(3)
        .map(s -> "'" + oneLine(s) + "'").toList()) + "?";
  }

  private static int report(Exception e, CommandLine cmd, PrintWriter err) {
    boolean stacktrace = cmd.getCommandSpec().root().userObject() instanceof AccrCommand root
        && root.stacktrace;
    int code = e instanceof AccrException a ? a.exitCode() : AccrException.FAILED;
    String message = e instanceof AccrException ? e.getMessage()
        : e.getClass().getSimpleName() + ": " + e.getMessage();
    String log = e instanceof NodeClient.RemoteException remote && !remote.logFile().isEmpty()
        ? " (log: " + oneLine(remote.logFile()) + ")" : "";
    err.println("accr: " + oneLine(message) + log);
    if (stacktrace) {
      e.printStackTrace(err);
      if (e instanceof NodeClient.RemoteException remote) {
        err.println("on the node:");
        err.print(remote.remoteTrace());
      }
    }
    err.flush();
    return code;
  }

  /** Errors are one short line, whatever untrusted text they echo. */
  private static String oneLine(String s) {
    return Untrusted.line(s);
  }
}
