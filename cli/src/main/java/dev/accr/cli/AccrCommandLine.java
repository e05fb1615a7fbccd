package dev.accr.cli;

import dev.accr.api.AccrException;
import dev.accr.api.Untrusted;
import dev.accr.node.NodeClient;
import java.io.PrintWriter;
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
    CommandLine cl = new CommandLine(new AccrCommand(env));
    // Everything after the workload name belongs to the workload.
    cl.getSubcommands().get("run").setStopAtPositional(true);
    cl.setOut(out);
    cl.setErr(err);
    cl.setExecutionExceptionHandler((e, cmd, parseResult) -> report(e, cmd, err));
    cl.setHelpFactory(SpacedHelp::new);
    cl.setParameterExceptionHandler((e, args) -> {
      err.println("accr: " + oneLine(message(e)) + suggestions(e));
      err.println("Try '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help'.");
      return AccrException.USAGE;
    });
    return cl;
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
