package dev.accr.cli;

import dev.accr.api.AccrException;
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
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code accr dump}: checkpoints a process into an image directory. */
@Command(name = "dump", mixinStandardHelpOptions = true,
    description = "Checkpoint a process into an image directory.")
final class DumpCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin NodeOption node;

  @Option(names = {"-t", "--tree"}, required = true, paramLabel = "PID", description = "The process.")
  int pid;

  @Option(names = {"-D", "--images-dir"}, required = true, paramLabel = "DIR",
      description = "Directory for the image set; must not exist or be empty.")
  Path dir;

  @Option(names = {"-R", "--leave-running"}, description = "Let the process continue after the dump.")
  boolean leaveRunning;

  @Option(names = {"-s", "--leave-stopped"},
      description = "Keep the process frozen after the dump: 'accr thaw' resumes it, 'accr kill'"
          + " ends it.")
  boolean leaveStopped;

  @Option(names = "--compress", defaultValue = "none", paramLabel = "zstd[:L]|none",
      description = "Compression of bulk data (default: ${DEFAULT-VALUE}).")
  String compress;

  @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
      description = "Writer threads, one pages file each (default: one per core).")
  int threads;

  @Mixin PluginOptions pluginOptions;

  @Override
  public Integer call() {
    Compression.parse(compress); // a usage error here, not on the node
    if (leaveRunning && leaveStopped) {
      throw AccrException.usage("--leave-running and --leave-stopped: choose one");
    }
    var options = pluginOptions.toMap();
    DumpReply reply;
    try (ProgressBar bar = ProgressBar.onTerminal(spec.commandLine().getErr())) {
      reply = node.call(Request.newBuilder().setDump(DumpRequest.newBuilder().setPid(pid)
          .setDir(NodePaths.path(node, dir)).setLeaveRunning(leaveRunning).setLeaveStopped(leaveStopped)
          .setCompression(compress).setThreads(threads).putAllPluginOptions(options)).build(),
          bar).getDump();
    }
    DumpStatsEntry s = reply.getStats();
    spec.commandLine().getOut().printf(
        "dumped %d into %s%n  frozen %.1f ms, memory %.1f ms, %s read, %s written (%s),"
            + " %d zero pages skipped, %s%n",
        pid, reply.getDir(), s.getFrozenTimeUs() / 1000.0, s.getMemdumpTimeUs() / 1000.0,
        Sizes.bytes(s.getBytesRead()), Sizes.bytes(s.getBytesWritten()), s.getCompression(),
        s.getPagesSkippedZero(), Units.rate(s.getBytesRead(), s.getMemdumpTimeUs()));
    return 0;
  }
}
