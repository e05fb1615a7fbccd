package dev.accr.cli;

import dev.accr.api.Sizes;
import dev.accr.image.Compression;
import dev.accr.proto.DumpReply;
import dev.accr.proto.DumpRequest;
import dev.accr.proto.DumpStatsEntry;
import dev.accr.proto.Request;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code accr pre-dump}: saves the memory of a process tree while it keeps running, as a link
 * that a later {@code dump --parent} builds on.
 */
@Command(name = "pre-dump", mixinStandardHelpOptions = true,
    description = "Save the memory of a process tree while it keeps running (frozen only to"
        + " start tracking its writes); a later dump --parent stores only what changed.")
final class PreDumpCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin NodeOption node;

  @Option(names = {"-t", "--tree"}, required = true, paramLabel = "PID", description = {
      "The root of the tree to pre-dump: the process and all its descendants, frozen together"
          + " just long enough to start tracking their writes."})
  int pid;

  @Option(names = {"-D", "--images-dir"}, required = true, paramLabel = "DIR",
      description = "Directory for the image set; must not exist or be empty.")
  Path dir;

  @Option(names = {"--parent", "--prev-images-dir"}, paramLabel = "DIR",
      description = "The previous pre-dump: store only what changed since (relative to DIR).")
  String parent;

  @Option(names = "--compress", defaultValue = "none", paramLabel = "zstd[:L]|none",
      description = "Compression of bulk data (default: ${DEFAULT-VALUE}).")
  String compress;

  @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
      description = "Writer threads, one pages file each (default: one per core).")
  int threads;

  @Mixin PluginOptions pluginOptions;

  @Override
  public Integer call() {
    Compression.parse(compress);
    DumpReply reply;
    try (ProgressBar bar = ProgressBar.onTerminal(spec.commandLine().getErr(),
        AccrCommand.log(spec))) {
      reply = node.call(Request.newBuilder().setDump(DumpRequest.newBuilder().setPid(pid)
          .setDir(NodePaths.path(node, dir)).setLeaveRunning(true).setPreDump(true)
          .setCompression(compress).setThreads(threads)
          .putAllPluginOptions(pluginOptions.toMap())
          .setParent(parent == null ? "" : parent)).build(), bar).getDump();
    }
    DumpStatsEntry s = reply.getStats();
    spec.commandLine().getOut().printf(
        "pre-dumped %d into %s%n  frozen %.1f ms, memory %.1f ms, %s read, %s written (%s)%n",
        pid, reply.getDir(), s.getFrozenTimeUs() / 1000.0, s.getMemdumpTimeUs() / 1000.0,
        Sizes.bytes(s.getBytesRead()), Sizes.bytes(s.getBytesWritten()), s.getCompression());
    DumpCommand.printIncremental(spec, s);
    return 0;
  }
}
