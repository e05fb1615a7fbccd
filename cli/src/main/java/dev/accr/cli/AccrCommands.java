package dev.accr.cli;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * accr's commands by name, in the order help lists them. The command line is built from this
 * table rather than from {@code @Command(subcommands = ...)}, so that an invocation of one
 * command needs picocli to reflect over that command only (see {@link AccrCommandLine}).
 */
final class AccrCommands {
  private AccrCommands() {}

  /** The top-level commands: name as in each class's {@code @Command}, and the class. */
  static final Map<String, Class<?>> TOP = table(
      "demo", DemoCommand.class, "node", NodeCommand.class, "run", RunCommand.class,
      "ps", PsCommand.class, "wait", WaitCommand.class, "kill", KillCommand.class,
      "thaw", ThawCommand.class, "dump", DumpCommand.class, "migrate", MigrateCommand.class,
      "pre-dump", PreDumpCommand.class, "compact", CompactCommand.class,
      "restore", RestoreCommand.class, "show", ShowCommand.class, "check", CheckCommand.class,
      "topology", TopologyCommand.class, "plugins", PluginsCommand.class,
      "bench", BenchCommand.class, "encode", EncodeCommand.class,
      "inspect", InspectCommand.class, "diff", DiffCommand.class, "tls", TlsCommand.class,
      "gc", GcCommand.class, "completion", CompletionCommand.class, "help", HelpCommand.class);

  /** Commands that work on the whole tree of commands: they always get all of it. */
  static boolean needsWholeTree(String name) {
    return name.equals("help") || name.equals("completion");
  }

  private static Map<String, Class<?>> table(Object... nameThenClass) {
    Map<String, Class<?>> m = new LinkedHashMap<>();
    for (int i = 0; i < nameThenClass.length; i += 2) {
      m.put((String) nameThenClass[i], (Class<?>) nameThenClass[i + 1]);
    }
    return java.util.Collections.unmodifiableMap(m);
  }
}
