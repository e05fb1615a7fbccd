package dev.accr.node;

import dev.accr.api.AccrException;
import dev.accr.engine.DumpOptions;
import dev.accr.engine.Dumper;
import dev.accr.image.ProgressListener;
import dev.accr.engine.RestoreOptions;
import dev.accr.engine.RestorePlan;
import dev.accr.engine.Restorer;
import dev.accr.engine.Version;
import dev.accr.image.Compression;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.plugin.DevicePairs;
import dev.accr.plugin.PluginHost;
import dev.accr.proto.DumpReply;
import dev.accr.proto.DumpRequest;
import dev.accr.proto.DumpStatsEntry;
import dev.accr.proto.ErrorReply;
import dev.accr.proto.KillReply;
import dev.accr.proto.PingReply;
import dev.accr.proto.ProcessInfo;
import dev.accr.proto.Progress;
import dev.accr.proto.PsReply;
import dev.accr.proto.Request;
import dev.accr.proto.Response;
import dev.accr.proto.RestoreReply;
import dev.accr.proto.RestoreRequest;
import dev.accr.proto.RunReply;
import dev.accr.proto.RunRequest;
import dev.accr.proto.ShutdownReply;
import dev.accr.proto.ThawReply;
import dev.accr.proto.WaitReply;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Carries out requests on a node with the plugins of the node's registry; the same code serves
 * sockets and in-process callers. Every failure becomes an error reply: an
 * {@link AccrException} with its exit code and message, anything else with exit code 1 and
 * its type and message. Paths named by remote callers resolve inside the node's
 * {@link ImageRoot} ({@link CallerPaths}).
 */
public final class NodeService {
  private static final long PROGRESS_INTERVAL_NANOS = 100_000_000L;

  private final Node node;
  private final PluginHost plugins;
  private final Runnable shutdown;
  private final ImageRoot imageRoot;
  private final Operations operations;
  private final AtomicBoolean shutdownScheduled = new AtomicBoolean();

  /** A service whose remote callers may name no path (it has no image root). */
  public NodeService(Node node, Runnable shutdown) {
    this(node, null, shutdown);
  }

  /** A service whose remote callers' paths resolve inside {@code imageRoot}. */
  public NodeService(Node node, ImageRoot imageRoot, Runnable shutdown) {
    this.node = node;
    this.plugins = PluginHost.of(node.registry().plugins());
    this.shutdown = shutdown;
    this.imageRoot = imageRoot;
    this.operations = new Operations(node.name());
  }

  /** The dumps and restores running on this node. */
  public Operations operations() {
    return operations;
  }

  public Node node() {
    return node;
  }

  /** Handles one request of a local caller; see {@link #handle(Request, Caller, Consumer)}. */
  public void handle(Request request, Consumer<Response> out) {
    handle(request, Caller.LOCAL, out);
  }

  /**
   * Handles one request from {@code caller}; {@code out} receives progress responses, then the
   * final one.
   */
  public void handle(Request request, Caller caller, Consumer<Response> out) {
    Response reply;
    try {
      reply = dispatch(request, caller, progressTo(out));
    } catch (AccrException e) {
      reply = error(caller, e.exitCode(), e.getMessage(), e);
    } catch (IOException | RuntimeException e) {
      reply = error(caller, AccrException.FAILED, e.getMessage() == null
          ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + e.getMessage(), e);
    }
    out.accept(reply);
    if (reply.hasWait()) {
      // Only now that the client has the digest may the zombie go.
      node.reap(node.process(reply.getWait().getPid()));
    }
  }

  private Response dispatch(Request r, Caller caller, ProgressListener progress)
      throws IOException {
    return switch (r.getKindCase()) {
      case PING -> Response.newBuilder().setPing(PingReply.newBuilder().setName(node.name())
          .setTopology(node.topology()).setPid(ProcessHandle.current().pid())
          .setVersion(Version.get()).setProcesses(node.processes().size())).build();
      case RUN -> run(r.getRun(), paths(caller));
      case PS -> ps();
      case WAIT -> Response.newBuilder().setWait(WaitReply.newBuilder()
          .setPid(r.getWait().getPid()).setDigest(node.awaitExit(r.getWait().getPid()))).build();
      case KILL -> {
        node.kill(r.getKill().getPid());
        yield Response.newBuilder().setKill(KillReply.getDefaultInstance()).build();
      }
      case THAW -> thaw(r.getThaw().getPid());
      case DUMP -> dump(r.getDump(), paths(caller), progress);
      case RESTORE -> restore(r.getRestore(), paths(caller), progress);
      case SHUTDOWN -> shutdown(r.getShutdown().getForce());
      case KIND_NOT_SET -> throw AccrException.usage("empty request");
    };
  }

  /**
   * Stops the node once its running operations end (cancelled first when {@code force});
   * answers at once with what it waits for.
   */
  private Response shutdown(boolean force) {
    List<String> running = operations.stop(force);
    if (shutdownScheduled.compareAndSet(false, true)) {
      Thread.ofVirtual().start(() -> {
        try {
          operations.awaitIdle();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        shutdown.run();
      });
    }
    return Response.newBuilder().setShutdown(ShutdownReply.newBuilder()
        .addAllWaitingFor(running)).build();
  }

  private CallerPaths paths(Caller caller) {
    return CallerPaths.of(caller, imageRoot);
  }

  private Response run(RunRequest r, CallerPaths paths) {
    Path cwd = paths.workingDir(r.getCwd());
    paths.checkArguments(cwd, r.getArgsList());
    SimProcess p = node.spawn(r.getWorkload(), r.getArgsList(), cwd, r.getStepDelayMs());
    return Response.newBuilder().setRun(RunReply.newBuilder().setPid(p.pid())).build();
  }

  private Response ps() {
    PsReply.Builder ps = PsReply.newBuilder();
    for (SimProcess p : node.processes()) {
      ps.addProcesses(ProcessInfo.newBuilder().setPid(p.pid()).setExe(p.workload().name())
          .setState(p.state().name().toLowerCase()).addAllArgv(p.argv())
          .setThreads(p.threadCount())
          .setResidentPages(p.state() == SimProcess.State.EXITED ? 0 : p.memory().residentPages()));
    }
    return Response.newBuilder().setPs(ps).build();
  }

  private Response dump(DumpRequest r, CallerPaths paths, ProgressListener progress)
      throws IOException {
    DumpOptions options = DumpOptions.defaults()
        .withCompression(Compression.parse(r.getCompression()))
        .withLeaveRunning(r.getLeaveRunning()).withLeaveStopped(r.getLeaveStopped())
        .withPluginOptions(r.getPluginOptionsMap());
    if (r.getThreads() > 0) {
      options = options.withThreads(r.getThreads());
    }
    Path dir = paths.dumpDir(r.getDir());
    DumpStatsEntry stats;
    try (Operations.Operation op = operations.begin(Operations.Kind.DUMP, r.getPid(),
        "dump of process " + r.getPid() + " into " + dir.toAbsolutePath())) {
      stats = new Dumper(node, plugins).cancelledBy(op).dump(r.getPid(), dir, options, progress);
    }
    return Response.newBuilder().setDump(DumpReply.newBuilder().setStats(stats)
        .setDir(paths.show(dir))).build();
  }

  /** {@code accr thaw}: a process a dump left stopped runs on. */
  private Response thaw(int pid) {
    node.process(pid).resume();
    return Response.newBuilder().setThaw(ThawReply.getDefaultInstance()).build();
  }

  private Response restore(RestoreRequest r, CallerPaths paths, ProgressListener progress)
      throws IOException {
    Path dir = paths.imageDir(r.getDir());
    paths.checkImage(dir);
    RestoreOptions options = RestoreOptions.defaults().withPluginOptions(r.getPluginOptionsMap())
        .withMapping(MappingPolicies.fromInfo(r.getMapping()));
    if (r.getThreads() > 0) {
      options = options.withThreads(r.getThreads());
    }
    Restorer.Result result;
    try (Operations.Operation op = operations.begin(Operations.Kind.RESTORE,
        "restore from " + dir.toAbsolutePath())) {
      Restorer restorer = new Restorer(node, plugins).cancelledBy(op);
      RestorePlan plan = restorer.plan(dir, options, progress);
      int pid = plan.pid();
      try {
        op.claim(pid, "restore of process " + pid + " from " + dir.toAbsolutePath());
      } catch (AccrException e) {
        plan.close();
        throw e;
      }
      result = restorer.recreate(plan);
    }
    RestoreReply.Builder reply = RestoreReply.newBuilder()
        .setPid(result.process().pid()).setPagesRestored(result.pagesRestored())
        .setBytesRead(result.bytesRead()).setTimeUs(result.timeUs());
    result.devices().forEach(d -> reply.addDevices(DevicePairs.toInfo(d)));
    return Response.newBuilder().setRestore(reply).build();
  }

  private static ProgressListener progressTo(Consumer<Response> out) {
    // The first report goes out at once: a client sees the operation start, however short.
    long[] last = {System.nanoTime() - PROGRESS_INTERVAL_NANOS};
    return (phase, done, total) -> {
      synchronized (last) {
        long now = System.nanoTime();
        if (now - last[0] < PROGRESS_INTERVAL_NANOS && done < total) {
          return;
        }
        last[0] = now;
        out.accept(Response.newBuilder().setProgress(Progress.newBuilder().setPhase(phase)
            .setDone(done).setTotal(total)).build());
      }
    };
  }

  /**
   * The error reply: local callers get the trace for {@code --stacktrace}; a remote caller
   * learns nothing of the node's code or files from it, and the trace goes to the node's log.
   */
  private static Response error(Caller caller, int code, String message, Throwable t) {
    StringWriter trace = new StringWriter();
    t.printStackTrace(new PrintWriter(trace));
    ErrorReply.Builder reply = ErrorReply.newBuilder().setExitCode(code).setMessage(message);
    if (caller.remote()) {
      System.err.printf("%s error for %s: %s%n%s", Instant.now(), caller.address(), message,
          trace);
    } else {
      reply.setStackTrace(trace.toString());
    }
    return Response.newBuilder().setError(reply).build();
  }
}
