package dev.accr.cli;

import dev.accr.api.AccrException;
import dev.accr.engine.JsonOutput;
import dev.accr.image.Compression;
import dev.accr.node.MappingPolicies;
import dev.accr.proto.MigrateReply;
import dev.accr.proto.MigrateRequest;
import dev.accr.proto.Request;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code accr migrate}: moves a running process to another node. */
@Command(name = "migrate", mixinStandardHelpOptions = true,
    description = {"Move a running process to another node: the target first checks that it"
        + " can take it (device mapping, memory, plugins), then pre-copy rounds send its memory"
        + " while it runs, each only what was written since the last; then it is frozen, the"
        + " last changes and the device state sent, and it is restored on the target. The"
        + " process is killed here only once it runs there; any failure before leaves it"
        + " running here and nothing on the target.",
        "--pre-copy-rounds 0 is a cold migration (one stop-and-copy).",
        "--lazy is post-copy: the process is frozen, its device state and metadata sent, and"
        + " it runs on the target at once; its host and device memory follow, each page"
        + " fetched from this node on its first touch there while the rest is pushed in the"
        + " background. It stays frozen here, with its memory, until the target has it all."
        + " Risk: if the link to this node breaks before then, the process on the target"
        + " cannot get its memory and is killed (the process is lost).",
        "A tree (PID and its descendants) moves whole, either way. With --lazy every process of"
        + " it runs on the target at once, their memory following on one link (shared memory"
        + " before the tree runs); if that link breaks, every process of the tree is killed."})
final class MigrateCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin NodeOption node;

  @Option(names = {"-t", "--tree"}, required = true, paramLabel = "PID", description = "The process.")
  int pid;

  @Option(names = "--to", required = true, paramLabel = "NODE",
      description = "The target node, as the source node reaches it: a local node's name, or"
          + " [NAME@]HOST:PORT over TLS with the nodes' own certificates.")
  String to;

  @Option(names = "--max-rounds", paramLabel = "K", defaultValue = "5",
      description = "Pre-copy rounds at most (default: ${DEFAULT-VALUE}); they stop earlier"
          + " once a round is small or no longer shrinks.")
  int maxRounds;

  @Option(names = "--pre-copy-rounds", paramLabel = "N",
      description = "Pre-copy rounds at most, as --max-rounds; 0: a cold migration.")
  Integer preCopyRounds;

  @Option(names = "--small-round-mib", paramLabel = "MIB", defaultValue = "16",
      description = "A round smaller than this ends pre-copy (default: ${DEFAULT-VALUE}).")
  long smallRoundMib;

  @Option(names = "--compress", defaultValue = "none", paramLabel = "zstd[:L]|none",
      description = "Compression on the wire (default: ${DEFAULT-VALUE}).")
  String compress;

  @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
      description = "Writer threads (default: one per core).")
  int threads;

  @Option(names = "--lazy", description = "Post-copy: run on the target at once and fetch"
      + " the memory from here on first touch; losing this node meanwhile kills the process.")
  boolean lazy;

  @Mixin MappingOptions mapping;
  @Mixin PluginOptions pluginOptions;

  @Option(names = "--json", description = "Print the migration's figures as JSON.")
  boolean json;

  @Override
  public Integer call() {
    Compression.parse(compress);
    int rounds = preCopyRounds != null ? preCopyRounds : maxRounds;
    if (lazy) {
      // Post-copy sends no rounds: an option about them would be silently ignored.
      var parsed = spec.commandLine().getParseResult();
      for (String option : new String[] {"--max-rounds", "--pre-copy-rounds",
          "--small-round-mib"}) {
        if (parsed.hasMatchedOption(option)) {
          throw AccrException.usage("--lazy sends no pre-copy rounds: drop %s", option);
        }
      }
    }
    if (rounds < 0 || smallRoundMib < 0) {
      throw AccrException.usage("--max-rounds and --small-round-mib must not be negative");
    }
    Request request = Request.newBuilder().setMigrate(MigrateRequest.newBuilder().setPid(pid)
        .setToNode(to).setLazy(lazy).setMaxRounds(rounds).setCompression(compress).setThreads(threads)
        .setSmallRoundBytes(smallRoundMib << 20).putAllPluginOptions(pluginOptions.toMap())
        .setMapping(MappingPolicies.toInfo(mapping.toPolicy()))).build();
    MigrateReply reply = node.call(request).getMigrate();
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(JsonOutput.printWithZeros(reply));
      return 0;
    }
    MigrationReport.print(reply, pid, node.node, to, out);
    return 0;
  }
}
