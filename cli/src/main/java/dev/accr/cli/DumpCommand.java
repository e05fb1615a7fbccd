package dev.accr.cli;

import dev.accr.engine.JsonOutput;
import dev.accr.api.AccrException;
import dev.accr.node.NodeClient;
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

  @Option(names = {"-t", "--tree"}, required = true, paramLabel = "PID", description = {
      "The root of the tree to dump: the process and all its descendants, frozen together.",
      "A process that is not a root dumps its subtree, as CRIU does: what it shares with a"
          + " process outside (its parent's pipe ends, shared memory) refuses the dump."})
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

  @Option(names = {"--parent", "--prev-images-dir"}, paramLabel = "DIR",
      description = "Store only what changed since this image set (a pre-dump or dump of the"
          + " same tree); a relative path is taken from the image directory, as in CRIU.")
  String parent;

  @Option(names = "--to-node", paramLabel = "NODE",
      description = "Write the set into this node's image store ([NAME@]HOST:PORT over TLS with"
          + " the nodes' own certificates, or a local node's name) as it is produced, nothing"
          + " on the dumping node's disk; DIR names the set there.")
  String toNode;

  @Mixin PluginOptions pluginOptions;

  @Option(names = "--json", description = "Print the dump's statistics as JSON.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    Compression.parse(compress); // a usage error here, not on the node
    if (leaveRunning && leaveStopped) {
      throw AccrException.usage("--leave-running and --leave-stopped: choose one");
    }
    var options = pluginOptions.toMap();
    Request request = Request.newBuilder().setDump(DumpRequest.newBuilder().setPid(pid)
        .setDir(toNode == null ? NodePaths.path(node, dir) : targetPath())
        .setToNode(toNode == null ? "" : toNode).setLeaveRunning(leaveRunning)
        .setLeaveStopped(leaveStopped)
        .setCompression(compress).setThreads(threads).putAllPluginOptions(options)
        .setParent(parent == null ? "" : parent)).build();
    NodeClient.Cancel cancel = new NodeClient.Cancel();
    DumpReply reply;
    try (ProgressBar bar = ProgressBar.onTerminal(spec.commandLine().getErr(),
        AccrCommand.log(spec))) {
      reply = node.callCancellable(request, bar, cancel).getDump();
    } catch (NodeClient.RemoteException e) {
      if (cancel.requested()) {
        throw AccrException.failed("dump cancelled (Ctrl-C): process %d left running as it was%s",
            pid, e.logFile().isEmpty() ? "" : " (log: " + e.logFile() + ")");
      }
      throw e;
    }
    if (cancel.requested()) {
      spec.commandLine().getErr().println("accr: the dump had finished when Ctrl-C came");
    }
    if (json) {
      spec.commandLine().getOut().println(JsonOutput.printWithZeros(reply));
    } else {
      OperationSummary.dump(spec.commandLine().getOut(), pid, reply);
      printIncremental(spec, reply.getStats());
    }
    return 0;
  }

  /** DIR as the target node resolves it: as typed over TCP, absolute for a local node. */
  private String targetPath() {
    return toNode.lastIndexOf(':') > 0 ? dir.toString() : dir.toAbsolutePath().toString();
  }

  /** What an incremental dump or a pre-dump adds to the summary. */
  static void printIncremental(CommandSpec spec, DumpStatsEntry s) {
    if (s.getIncremental()) {
      spec.commandLine().getOut().printf("  incremental: %d pages written since the parent%n",
          s.getPagesScanned());
    }
    for (String plugin : s.getPluginsFullList()) {
      spec.commandLine().getOut().printf("  %s: cannot track device writes, stored in full%n",
          plugin);
    }
  }
}
