package dev.accr.cli;

import dev.accr.engine.Version;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** The top-level {@code accr} command. */
@Command(name = "accr", mixinStandardHelpOptions = true, versionProvider = AccrCommand.VersionInfo.class,
    description = "Checkpoint/restore for processes that use accelerators (simulated).",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:success", "1:the operation failed", "2:usage error",
        "3:image corrupt, truncated or unreadable",
        "4:incompatible (topology, plugin missing, format too new)",
        "5:no such node or process"},
    subcommands = {DemoCommand.class, NodeCommand.class, RunCommand.class, PsCommand.class,
        WaitCommand.class, DumpCommand.class, RestoreCommand.class, ShowCommand.class,
        CheckCommand.class, TopologyCommand.class, PluginsCommand.class, BenchCommand.class,
        EncodeCommand.class, InspectCommand.class, DiffCommand.class})
public final class AccrCommand {
  @Option(names = "--stacktrace", scope = ScopeType.INHERIT,
      description = "Print the stack trace of an error.")
  boolean stacktrace;

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
