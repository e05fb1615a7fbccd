package dev.accr.node;

import dev.accr.api.AccrException;
import dev.accr.engine.Cancellation;
import dev.accr.engine.DumpOptions;
import dev.accr.engine.Dumper;
import dev.accr.engine.RestoreOptions;
import dev.accr.engine.RestorePlan;
import dev.accr.engine.Restorer;
import dev.accr.image.Compression;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.plugin.DevicePairs;
import dev.accr.plugin.PluginHost;
import dev.accr.proto.DumpReply;
import dev.accr.proto.DumpRequest;
import dev.accr.proto.DumpStatsEntry;
import dev.accr.proto.ReceiveSetRequest;
import dev.accr.proto.Response;
import dev.accr.proto.RestoreReply;
import dev.accr.proto.RestoreRequest;
import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * The dumps and restores a node's callers ask for: each is one of the node's {@link
 * Operations}, logged ({@link OperationLogs}), with paths as the caller may name them.
 */
final class CheckpointRequests {
  private final Node node;
  private final PluginHost plugins;
  private final Operations operations;
  private final LazyInfos lazyInfos;
  private final Supplier<Peers> peers;

  CheckpointRequests(Node node, PluginHost plugins, Operations operations, LazyInfos lazyInfos,
      Supplier<Peers> peers) {
    this.node = node;
    this.plugins = plugins;
    this.operations = operations;
    this.lazyInfos = lazyInfos;
    this.peers = peers;
  }

  Response dump(DumpRequest r, CallerPaths paths, ProgressListener progress,
      OperationLog log, Cancellation clientGone) throws IOException {
    DumpOptions options = DumpOptions.defaults()
        .withCompression(Compression.parse(r.getCompression()))
        .withLeaveRunning(r.getLeaveRunning()).withLeaveStopped(r.getLeaveStopped())
        .withPluginOptions(r.getPluginOptionsMap());
    if (r.getThreads() > 0) {
      options = options.withThreads(r.getThreads());
    }
    boolean remote = !r.getToNode().isEmpty();
    // A set written on another node is named as that node resolves it.
    Path dir = remote ? Path.of(r.getDir()) : paths.dumpDir(r.getDir());
    if (remote && !r.getParent().isEmpty()) {
      throw AccrException.usage("dump --to-node: a parent set lives on the other node; use"
          + " accr migrate for incremental copies between nodes");
    }
    Path parent = r.getParent().isEmpty() ? null : paths.parentDir(dir, r.getParent());
    DumpStatsEntry stats;
    String what = r.getPreDump() ? "pre-dump" : "dump";
    try (Operations.Operation op = operations.begin(Operations.Kind.DUMP, r.getPid(),
        what + " of process " + r.getPid() + " into " + dir.toAbsolutePath())) {
      // No log is left on this node for a set written elsewhere.
      OperationLogs.started(log, op.toString(), remote ? null : dir, options.toString());
      Dumper dumper = new Dumper(node, plugins)
          .cancelledBy(OperationLogs.either(op, clientGone))
          .withParent(parent, paths.parentConfinement());
      if (remote) {
        dumper = dumper.writingTo(new RemoteDestination(peers.get().client(r.getToNode()),
            d -> ReceiveSetRequest.newBuilder().setDir(r.getDir())
                .setConfined(paths.confined()), options.threads()));
      }
      stats = r.getPreDump() ? dumper.preDump(r.getPid(), dir, options, progress)
          : dumper.dump(r.getPid(), dir, options, progress);
    }
    OperationLogs.dumped(log, stats);
    Path logFile = remote ? null : log.writeInto(dir);
    return Response.newBuilder().setDump(DumpReply.newBuilder().setStats(stats)
        .setDir(remote ? r.getToNode() + ":" + r.getDir() : paths.show(dir))
        .setLogFile(logFile == null ? "" : paths.show(logFile))).build();
  }

  Response restore(RestoreRequest r, CallerPaths paths, ProgressListener progress,
      OperationLog log, Cancellation clientGone) throws IOException {
    Path dir = paths.imageDir(r.getDir());
    RestoreOptions options = RestoreOptions.defaults().withPluginOptions(r.getPluginOptionsMap())
        .withMapping(MappingPolicies.fromInfo(r.getMapping())).withTrackMem(r.getTrackMem());
    if (r.getThreads() > 0) {
      options = options.withThreads(r.getThreads());
    }
    if (r.getLazy()) {
      options = options.withLazy(r.getLazyUnchecked() ? RestoreOptions.Lazy.UNCHECKED
          : RestoreOptions.Lazy.CHECKED);
    }
    Restorer.Result result;
    RestorePlan plan;
    try (Operations.Operation op = operations.begin(Operations.Kind.RESTORE,
        "restore from " + dir.toAbsolutePath())) {
      OperationLogs.started(log, op.toString(), dir, options.toString());
      Restorer restorer = new Restorer(node, plugins)
          .cancelledBy(OperationLogs.either(op, clientGone))
          .parentsConfinedBy(paths.parentConfinement());
      plan = restorer.plan(dir, options, progress, paths::checkImage);
      int pid = plan.pid();
      try {
        op.claim(pid, "restore of process " + pid + " from " + dir.toAbsolutePath());
      } catch (AccrException e) {
        plan.close();
        throw e;
      }
      result = restorer.recreate(plan);
    }
    OperationLogs.restored(log, result.stats());
    OperationLogs.writeStats(dir, plan.set().id(), result.stats());
    Path logFile = log.writeInto(dir);
    RestoreReply.Builder reply = RestoreReply.newBuilder()
        .setPid(result.process().pid()).setPagesRestored(result.pagesRestored())
        .setBytesRead(result.bytesRead()).setTimeUs(result.timeUs()).setStats(result.stats())
        .setLogFile(logFile == null ? "" : paths.show(logFile));
    result.devices().forEach(d -> reply.addDevices(DevicePairs.toInfo(d)));
    lazyInfos.restored(result.process().pid(), result.lazy());
    if (result.lazy() != null) {
      reply.setLazy(LazyInfos.toInfo(result.lazy().progress(), result.lazy().checkFirst()));
    }
    return Response.newBuilder().setRestore(reply).build();
  }
}
