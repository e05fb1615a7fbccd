package dev.accr.node;

import dev.accr.api.AccrException;
import dev.accr.engine.Cancellation;
import dev.accr.engine.Version;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.plugin.PluginHost;
import dev.accr.proto.ErrorReply;
import dev.accr.proto.KillReply;
import dev.accr.proto.PingReply;
import dev.accr.proto.Progress;
import dev.accr.proto.ReceiveSetRequest;
import dev.accr.proto.Request;
import dev.accr.proto.Response;
import dev.accr.proto.ShutdownReply;
import dev.accr.proto.WaitReply;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Carries out requests on a node with the plugins of the node's registry; the same code serves
 * sockets and in-process callers. Every failure becomes an error reply: an
 * {@link AccrException} with its exit code and message, anything else with exit code 1 and
 * its type and message. Paths named by remote callers resolve inside the node's
 * {@link ImageRoot} ({@link CallerPaths}).
 */
public final class NodeService {
  private static final Logger LOG = Logger.getLogger(NodeService.class.getName());
  private static final long PROGRESS_INTERVAL_NANOS = 100_000_000L;

  private final Node node;
  private final PluginHost plugins;
  private final Runnable shutdown;
  private final ImageRoot imageRoot;
  private final Operations operations;
  private final AtomicBoolean shutdownScheduled = new AtomicBoolean();
  private final LazyInfos lazyInfos;
  private final IncomingSets incomingSets = new IncomingSets();
  private final MigrationRequests migrations;
  private final ProcessRequests processes;
  private final CheckpointRequests checkpoints;
  /** Dumps, restores and stops whose reply is not yet sent: a stopping node lets them answer. */
  private int unanswered;
  private volatile Path nodeLog;
  private volatile Peers peers = Peers.NONE;

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
    this.lazyInfos = new LazyInfos(node);
    this.migrations = new MigrationRequests(this, plugins, imageRoot);
    this.processes = new ProcessRequests(node, lazyInfos);
    this.checkpoints = new CheckpointRequests(node, plugins, operations, lazyInfos,
        () -> peers);
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
    handle(request, caller, out, Cancellation.NONE);
  }

  /**
   * Handles one request as {@link #handle(Request, Caller, Consumer)} does; a dump or restore
   * stops (through its failure path) when {@code clientGone} says so.
   */
  public void handle(Request request, Caller caller, Consumer<Response> out,
      Cancellation clientGone) {
    // A stop's own reply counts too: the node must not exit before it is sent.
    boolean operation = request.hasDump() || request.hasRestore() || request.hasShutdown();
    if (operation) {
      synchronized (this) {
        unanswered++;
      }
    }
    try {
      answer(request, caller, out, clientGone);
    } finally {
      if (operation) {
        synchronized (this) {
          unanswered--;
          notifyAll();
        }
      }
    }
  }

  /** Waits until every dump, restore and stop has its reply sent, for at most {@code ms}. */
  private synchronized void awaitAnswered(long ms) throws InterruptedException {
    long deadline = System.currentTimeMillis() + ms;
    for (long left = ms; unanswered > 0 && left > 0;
        left = deadline - System.currentTimeMillis()) {
      wait(left);
    }
  }

  private void answer(Request request, Caller caller, Consumer<Response> out,
      Cancellation clientGone) {
    Response reply;
    OperationLog log = OperationLogs.begin(request, out);
    try {
      reply = dispatch(request, caller, progressTo(out), log, clientGone);
    } catch (AccrException e) {
      reply = error(caller, e.exitCode(), e.getMessage(), e, log);
    } catch (IOException | RuntimeException e) {
      reply = error(caller, AccrException.FAILED, e.getMessage() == null
          ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + e.getMessage(), e,
          log);
    } finally {
      if (log != null) {
        log.close();
      }
    }
    out.accept(reply);
    if (reply.hasWait()) {
      // Only now that the client has the digest may the zombie go.
      node.reapWaited(reply.getWait().getPid());
    }
  }

  private Response dispatch(Request r, Caller caller, ProgressListener progress,
      OperationLog log, Cancellation clientGone) throws IOException {
    return switch (r.getKindCase()) {
      case PING -> Response.newBuilder().setPing(PingReply.newBuilder().setName(node.name())
          .setTopology(node.topology()).setPid(ProcessHandle.current().pid())
          .setVersion(Version.get()).setProcesses(node.processes().size())).build();
      case RUN -> processes.run(r.getRun(), paths(caller));
      case PS -> processes.ps(caller.remote() && imageRoot == null
          ? ProcessRequests::hideAnyPath : paths(caller)::showArgument);
      case WAIT -> Response.newBuilder().setWait(WaitReply.newBuilder()
          .setPid(r.getWait().getPid()).setDigest(node.awaitExit(r.getWait().getPid()))).build();
      case KILL -> {
        node.kill(r.getKill().getPid());
        yield Response.newBuilder().setKill(KillReply.getDefaultInstance()).build();
      }
      case THAW -> processes.thaw(r.getThaw().getPid());
      case DUMP -> checkpoints.dump(r.getDump(), paths(caller), progress, log, clientGone);
      case RESTORE -> checkpoints.restore(r.getRestore(), paths(caller), progress, log,
          clientGone);
      case SHUTDOWN -> shutdown(r.getShutdown().getForce(), caller);
      case RECEIVE_SET -> throw AccrException.usage("a set is received over a connection only");
      case POST_COPY -> throw AccrException.usage("post-copy memory comes over a connection only");
      case MIGRATE -> migrations.migrate(r.getMigrate(), progress, log);
      case MIGRATION_STEP -> migrations.step(r.getMigrationStep(), caller, progress);
      case KIND_NOT_SET -> throw AccrException.usage("empty request");
    };
  }

  /**
   * Stops the node once its running operations end (cancelled first when {@code force});
   * answers at once with what it waits for.
   */
  private Response shutdown(boolean force, Caller caller) {
    List<String> running = operations.stop(force).stream()
        .map(what -> caller.remote() && imageRoot != null ? imageRoot.hide(what) : what).toList();
    if (shutdownScheduled.compareAndSet(false, true)) {
      Thread.ofVirtual().start(() -> {
        try {
          operations.awaitIdle();
          // An operation ends before its reply is sent: let the replies go out first (a client
          // that does not read its reply holds the stop for ten seconds at most).
          awaitAnswered(10_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        shutdown.run();
      });
    }
    return Response.newBuilder().setShutdown(ShutdownReply.newBuilder()
        .addAllWaitingFor(running)).build();
  }

  /**
   * Frees what this service holds for operations still to come (the rounds of pre-copy
   * migrations loaded ahead of their stop): its server stops.
   */
  public void close() {
    migrations.close();
  }

  CallerPaths paths(Caller caller) {
    return CallerPaths.of(caller, imageRoot);
  }

  /** {@code file} as {@code caller} may see it, or null. */
  private String showSafely(Caller caller, Path file) {
    try {
      return paths(caller).show(file);
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** Lets this node reach other nodes through {@code p} (dump --to-node, migrate). */
  public NodeService reachingPeersWith(Peers p) {
    this.peers = p;
    return this;
  }

  Peers peers() {
    return peers;
  }

  ImageRoot imageRoot() {
    return imageRoot;
  }

  /**
   * Receives an image set another node streams on {@code in} (after its request); see
   * {@link MigrationRequests#receive}.
   */
  public void receive(ReceiveSetRequest r, Caller caller,
      InputStream in, Consumer<Response> out) {
    receive(r, caller, Inbound.of(in), out);
  }

  /**
   * Receives a set, or one more stream of a set being received, on the connection
   * {@code inbound} (after its request).
   */
  public void receive(ReceiveSetRequest r, Caller caller, Inbound inbound,
      Consumer<Response> out) {
    if (r.getJoinKey().isEmpty()) {
      migrations.receive(r, caller, inbound, out);
      return;
    }
    try {
      SetReceiver.join(incomingSets, r.getJoinKey(), caller, inbound, out);
    } catch (AccrException e) {
      answer(out, error(caller, e.exitCode(), e.getMessage(), e, null));
    } catch (IOException | RuntimeException e) {
      answer(out, error(caller, AccrException.FAILED, e.getClass().getSimpleName() + ": "
          + e.getMessage(), e, null));
    }
  }

  /** The sets being received here over several streams. */
  IncomingSets incomingSets() {
    return incomingSets;
  }

  /** Answers on a connection that may be gone already (the set failed, its streams stopped). */
  private static void answer(Consumer<Response> out, Response r) {
    try {
      out.accept(r);
    } catch (java.io.UncheckedIOException ignored) {
      // The sender has its own reason, or sees the connection end.
    }
  }

  /**
   * Serves the target's end of a post-copy migration on a connection from its source; see
   * {@link MigrationRequests#postCopy}.
   */
  public void postCopy(dev.accr.proto.PostCopyRequest r, Caller caller, java.io.InputStream in,
      java.io.OutputStream out) throws IOException {
    migrations.postCopy(r, caller, in, out);
  }

  /** How often the ends of a post-copy heartbeat, and how long a silent peer is waited for. */
  NodeService withPostCopyTiming(LinkWatch.Timing timing) {
    migrations.postCopyTiming(timing);
    return this;
  }

  LinkWatch.Timing postCopyTiming() {
    return migrations.postCopyTiming();
  }

  /** Records that process {@code pid} was restored lazily (for ps). */
  void restoredLazily(int pid, dev.accr.engine.LazyRestore lazy) {
    lazyInfos.restored(pid, lazy);
  }

  /** Names {@code file} as the node's log in error replies to local callers. */
  public NodeService logsTo(Path file) {
    this.nodeLog = file;
    return this;
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
  Response error(Caller caller, int code, String message, Throwable t,
      OperationLog log) {
    StringWriter trace = new StringWriter();
    t.printStackTrace(new PrintWriter(trace));
    ErrorReply.Builder reply = ErrorReply.newBuilder().setExitCode(code)
        .setMessage(caller.remote() && imageRoot != null ? imageRoot.hide(message) : message);
    Path logFile = OperationLogs.failed(log, code, message, t);
    String shown = logFile != null ? showSafely(caller, logFile)
        : caller.remote() || log == null || nodeLog == null ? null : nodeLog.toString();
    if (shown != null) {
      reply.setLogFile(shown);
    }
    if (caller.remote()) {
      if (log == null) {
        LOG.log(Level.WARNING, "error for " + caller.address() + ": " + message, t);
      }
    } else {
      reply.setStackTrace(trace.toString());
    }
    return Response.newBuilder().setError(reply).build();
  }
}
