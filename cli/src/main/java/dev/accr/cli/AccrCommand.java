package dev.accr.cli;

import dev.accr.engine.Version;
import dev.accr.kernel.Registry;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** The top-level {@code accr} command. */
@Command(name = "accr", mixinStandardHelpOptions = true, versionProvider = AccrCommand.VersionInfo.class,
    description = "Checkpoint/restore for processes that use accelerators (simulated).",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:success", "1:the operation failed", "2:usage error",
        "3:image corrupt, truncated or unreadable",
        "4:incompatible (topology, plugin missing, format too new)",
        "5:no such node or process"})
public final class AccrCommand {
  @Option(names = "--stacktrace", scope = ScopeType.INHERIT,
      description = "Print the stack trace of an error.")
  boolean stacktrace;

  @Option(names = "-v", scope = ScopeType.INHERIT,
      description = {"Log what the command does on standard error: -v the phases of a dump or",
          "restore and the plugins' steps (DEBUG), -vv everything (TRACE)."})
  boolean[] verbose = new boolean[0];

  @Option(names = "--log-file", paramLabel = "FILE", scope = ScopeType.INHERIT,
      description = "Append the log to FILE instead (INFO, or as -v says).")
  Path logFile;

  private CliLog log;

  /** Environment variable naming plugin directories, separated by ':'. */
  static final String PLUGIN_DIR_ENV = "ACCR_PLUGIN_DIR";

  @Option(names = "--plugin-dir", paramLabel = "DIR", scope = ScopeType.INHERIT,
      description = "Load plugin jars from DIR (repeatable; also $ACCR_PLUGIN_DIR, ':'-separated).")
  List<Path> pluginDirs = new ArrayList<>();

  private final Map<String, String> env;
  private Registry registry;

  AccrCommand(Map<String, String> env) {
    this.env = Map.copyOf(env);
  }

  /**
   * What is installed for this invocation, loaded once: accr's class path and the jars of
   * {@code --plugin-dir} and {@code $ACCR_PLUGIN_DIR} (whose missing directories are skipped).
   */
  synchronized Registry registry() {
    if (registry == null) {
      List<Path> dirs = new ArrayList<>(pluginDirs);
      String fromEnv = env.get(PLUGIN_DIR_ENV);
      if (fromEnv != null) {
        for (String d : fromEnv.split(":")) {
          if (!d.isBlank() && Files.isDirectory(Path.of(d))) {
            dirs.add(Path.of(d));
          }
        }
      }
      registry = Registry.load(dirs);
    }
    return registry;
  }

  /** This invocation's log, as {@code -v} and {@code --log-file} ask; opened once. */
  synchronized CliLog log(PrintWriter err) {
    if (log == null) {
      log = CliLog.open(verbose.length, logFile, err);
    }
    return log;
  }

  /** The log of the invocation that {@code spec}'s command belongs to. */
  static CliLog log(CommandSpec spec) {
    return ((AccrCommand) spec.root().userObject()).log(spec.commandLine().getErr());
  }

  /** The registry of the invocation that {@code spec}'s command belongs to. */
  static Registry registry(CommandSpec spec) {
    return ((AccrCommand) spec.root().userObject()).registry();
  }

  /** The environment variable {@code name} of the invocation {@code spec} belongs to. */
  static String env(CommandSpec spec, String name) {
    return ((AccrCommand) spec.root().userObject()).env.get(name);
  }

  /** {@code accr --version}. */
  static final class VersionInfo implements picocli.CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"accr " + Version.get(),
          "image format " + dev.accr.image.ImageKind.VERSION_CURRENT + " (reads "
              + dev.accr.image.ImageKind.VERSION_START + " to "
              + dev.accr.image.ImageKind.VERSION_CURRENT + "), plugin API " + dev.accr.api.AccrPlugin.API_VERSION,
          "java " + Runtime.version()};
    }
  }
}
