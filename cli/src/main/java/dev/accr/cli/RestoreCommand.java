package dev.accr.cli;

import dev.accr.engine.JsonOutput;
import dev.accr.api.AccrException;
import dev.accr.node.NodeClient;
import dev.accr.api.Sizes;
import dev.accr.api.MappingPolicy;
import dev.accr.node.MappingPolicies;
import dev.accr.plugin.DevicePairs;
import dev.accr.proto.DevicePairInfo;
import dev.accr.proto.Request;
import dev.accr.proto.RestoreReply;
import dev.accr.proto.RestoreRequest;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code accr restore}: recreates a process from an image directory on a node. */
@Command(name = "restore", mixinStandardHelpOptions = true,
    description = "Restore a process from an image directory; it keeps its pid.")
final class RestoreCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin NodeOption node;

  @Option(names = {"-D", "--images-dir"}, required = true, paramLabel = "DIR",
      description = "The image set.")
  Path dir;

  @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
      description = "Reader threads (default: one per core).")
  int threads;

  @Option(names = "--pidfile", paramLabel = "FILE",
      description = "Write the restored process's pid into FILE (on this machine).")
  Path pidfile;

  @Mixin PluginOptions pluginOptions;

  @Mixin MappingOptions mapping;

  @Option(names = "--json", description = "Print the restore's statistics as JSON.")
  boolean json;

  @Option(names = "--lazy", description = "Post-copy: run the process as soon as its metadata"
      + " and device state are in; load host pages (and the device memory of plugins that"
      + " support it) on first touch while the rest is loaded in the background. `accr ps`"
      + " shows how the pages came. A chunk found damaged after the process runs kills it."
      + " A tree is restored lazily whole: the pages of its shared memory (MAP_SHARED, memfd)"
      + " are loaded before it runs, its private memory lazily; a damaged chunk kills every"
      + " process of it.")
  boolean lazy;

  @Option(names = "--no-page-check", description = "With --lazy: do not read and check every"
      + " chunk before the process runs (faster start); a damaged chunk is then found when"
      + " loaded and kills the process instead of failing the restore with exit 3.")
  boolean noPageCheck;

  @Option(names = "--track-mem", description = "Track the restored process's writes, so that"
      + " a later dump with this set as --parent stores only what changed (as CRIU's"
      + " --track-mem; without it such a dump is refused).")
  boolean trackMem;

  @Override
  public Integer call() throws Exception {
    if (noPageCheck && !lazy) {
      throw AccrException.usage("--no-page-check needs --lazy");
    }
    var options = pluginOptions.toMap();
    MappingPolicy policy = mapping.toPolicy();
    RestoreRequest request = RestoreRequest.newBuilder().setDir(NodePaths.path(node, dir))
        .setThreads(threads).putAllPluginOptions(options)
        .setMapping(MappingPolicies.toInfo(policy)).setLazy(lazy).setLazyUnchecked(noPageCheck)
        .setTrackMem(trackMem).build();
    NodeClient.Cancel cancel = new NodeClient.Cancel();
    RestoreReply reply;
    try (ProgressBar bar = ProgressBar.onTerminal(spec.commandLine().getErr(),
        AccrCommand.log(spec))) {
      reply = node.callCancellable(Request.newBuilder().setRestore(request).build(), bar, cancel)
          .getRestore();
    } catch (NodeClient.RemoteException e) {
      if (cancel.requested()) {
        throw AccrException.failed("restore cancelled (Ctrl-C): nothing of it is left on node"
            + " %s%s", node.node, e.logFile().isEmpty() ? "" : " (log: " + e.logFile() + ")");
      }
      throw e;
    }
    if (cancel.requested()) {
      spec.commandLine().getErr().println("accr: the restore had finished when Ctrl-C came");
    }
    if (pidfile != null) {
      writePid(pidfile, reply.getPid());
    }
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(JsonOutput.printWithZeros(reply));
      return 0;
    }
    OperationSummary.restore(out, node.node, reply);
    for (DevicePairInfo d : reply.getDevicesList()) {
      out.println("  " + DevicePairs.describe(DevicePairs.fromInfo(d)));
    }
    return 0;
  }

  private static void writePid(Path file, int pid) {
    try {
      Files.writeString(file, pid + "\n");
    } catch (IOException e) {
      throw AccrException.failed("restored %d but cannot write --pidfile %s: %s", pid, file,
          e.getMessage());
    }
  }
}
