package dev.accr.node;

import dev.accr.api.AccrException;
import dev.accr.api.MemoryView;
import dev.accr.engine.DumpOptions;
import dev.accr.engine.Dumper;
import dev.accr.engine.ServedMemory;
import dev.accr.image.CheckpointId;
import dev.accr.image.Compression;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.SimProcess;
import dev.accr.plugin.PluginHost;
import dev.accr.proto.DumpStatsEntry;
import dev.accr.proto.LazyPagesInfo;
import dev.accr.proto.MigrateReply;
import dev.accr.proto.MigrateRequest;
import dev.accr.proto.MigrationRound;
import dev.accr.proto.MigrationStepReply;
import dev.accr.proto.MigrationStepRequest;
import dev.accr.proto.PhaseTimeEntry;
import dev.accr.proto.ReceiveSetRequest;
import dev.accr.proto.Request;
import dev.accr.proto.Response;
import dev.accr.proto.RestoreRequest;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.logging.Logger;

/**
 * The source's side of {@code accr migrate}: pre-copy rounds (pre-dumps, each streamed to the
 * target and storing what was written since the one before) while the process runs, the
 * target's check of the first round (device mapping, memory, plugins) before the process is
 * ever stopped, then, once the target has loaded the rounds ahead (the process running here),
 * the stop: the last delta and the device state streamed, the chain restored on the target
 * (adopting what it loaded), and only once it runs there the process killed here. Until then any failure
 * lets the process run on here as if nothing happened, and the target drops every set of the
 * migration. No pre-copy round is a cold migration (one stop-and-copy).
 */
final class Migration {
  private static final Logger LOG = Logger.getLogger(Migration.class.getName());
  /** Stop pre-copying once a round sends fewer bytes than this (see {@link PreCopyRounds}). */
  static final long SMALL_ROUND_BYTES = 16L << 20;
  /** A virtual place for the sets as this node names them; they live on the target. */
  private static final Path SETS = Path.of("/migration");

  private final NodeService service;
  private final PluginHost plugins;
  private final MigrateRequest request;
  private final ProgressListener progress;
  private final String id = CheckpointId.random().toString();

  Migration(NodeService service, PluginHost plugins, MigrateRequest request,
      ProgressListener progress, OperationLog log) {
    this.service = service;
    this.plugins = plugins;
    this.request = request;
    this.progress = progress;
  }

  Response run() throws IOException {
    int pid = request.getPid();
    SimProcess process = service.node().process(pid); // exit 5 when there is none
    NodeClient target = service.peers().client(request.getToNode());
    DumpOptions options = DumpOptions.defaults()
        .withCompression(Compression.parse(request.getCompression()))
        .withPluginOptions(request.getPluginOptionsMap());
    if (request.getThreads() > 0) {
      options = options.withThreads(request.getThreads());
    }
    long smallRound = request.hasSmallRoundBytes() ? request.getSmallRoundBytes()
        : SMALL_ROUND_BYTES;
    RemoteDestination sets = new RemoteDestination(target, dir -> ReceiveSetRequest.newBuilder()
        .setMigration(id).setName(dir.getFileName().toString()));
    MigrateReply.Builder reply = MigrateReply.newBuilder().setTarget(request.getToNode());
    if (request.getLazy()) {
      return postCopy(process, target, sets, options, reply);
    }
    long start = System.nanoTime();
    boolean stopped = false;
    boolean done = false;
    try {
      if (request.getMaxRounds() == 0) {
        probe(pid, target, sets, options, reply); // a cold migration: no round to check
      }
      Path parent = null;
      PreCopyRounds rounds = new PreCopyRounds(request.getMaxRounds(), smallRound);
      for (int round = 0; round < request.getMaxRounds(); round++) {
        Path dir = SETS.resolve("r" + round);
        long t0 = System.nanoTime();
        DumpStatsEntry stats = dumper(sets, parent).preDump(pid, dir, options, progress);
        long bytes = sets.last().bytesSent();
        reply.addRounds(MigrationRound.newBuilder().setKind("pre-copy").setBytes(bytes)
            .setPages(stats.getPagesWritten()).setTimeUs((System.nanoTime() - t0) / 1000));
        sets.parentIs(dir, idOf(sets), pid);
        parent = dir;
        if (round == 0) {
          check(target, "r0", reply);
        }
        if (!rounds.more(bytes)) {
          // Before the stop, the target loads what it received while the process runs here;
          // what the process wrote meanwhile may go into one more round.
          if (rounds.resend(awaitStaged(target))) {
            continue;
          }
          break;
        }
      }
      if (request.getMaxRounds() > 0) {
        reply.setRoundsEnd(rounds.end().label);
      }
      // The stop: the process stays frozen here until it runs on the target.
      Path last = SETS.resolve(MigrationArea.FINAL);
      long frozenAt = System.nanoTime();
      stopped = true;
      DumpStatsEntry stats = dumper(sets, parent).dump(pid, last,
          options.withLeaveStopped(true), progress);
      long bytes = sets.last().bytesSent();
      reply.addRounds(MigrationRound.newBuilder().setKind("final").setBytes(bytes)
          .setPages(stats.getPagesWritten()).setTimeUs((System.nanoTime() - frozenAt) / 1000));
      MigrationStepReply restored = step(target, MigrationStepRequest.newBuilder()
          .setRestore(RestoreRequest.newBuilder().setDir(MigrationArea.FINAL)
              .setThreads(request.getThreads()).putAllPluginOptions(request.getPluginOptionsMap())
              .setMapping(request.getMapping())));
      long downtimeUs = (System.nanoTime() - frozenAt) / 1000;
      long stopUs = stats.getPhasesList().stream().mapToLong(PhaseTimeEntry::getTimeUs).sum();
      reply.setDowntimeUs(downtimeUs).setPid(restored.getPid())
          .setRestoreUs(restored.getRestoreUs()).clearDevices()
          .addAllDevices(restored.getDevicesList())
          .setStagedRounds(restored.getStagedLinks())
          .addAllDowntimePhases(stopPhases(stats, downtimeUs - stopUs, restored));
      done = true;
      service.node().kill(pid); // it runs on the target now
      reply.setTotalUs((System.nanoTime() - start) / 1000)
          .setBytesSent(reply.getRoundsList().stream().mapToLong(MigrationRound::getBytes).sum());
      return Response.newBuilder().setMigrate(reply).build();
    } finally {
      if (!done) {
        if (stopped && process.state() == SimProcess.State.STOPPED) {
          service.node().resumeTree(pid);
        }
        discard(target);
      }
    }
  }

  /**
   * Post-copy: freeze, send the metadata and device state (no memory), restore on the target
   * and let it run at once; then serve the memory of the process, still stopped here, as the
   * target asks, until it has all, and only then kill it here. Until the target runs it, any
   * failure thaws it here; once it runs there, losing the target loses it (post-copy's risk).
   * A tree moves whole: one connection serves the memory of every process of it, and the tree
   * here is killed once the target has it all.
   */
  private Response postCopy(SimProcess process, NodeClient target, RemoteDestination sets,
      DumpOptions options, MigrateReply.Builder reply) throws IOException {
    int pid = process.pid();
    long start = System.nanoTime();
    ServedMemory memory = new ServedMemory();
    PageServer pages = null;
    boolean stopped = false;
    boolean running = false;
    try {
      probe(pid, target, sets, options, reply);
      // The target restores as soon as the set is there; its device mapping is its check.
      pages = PageServer.open(target, id, RestoreRequest.newBuilder()
          .setDir(MigrationArea.FINAL).setThreads(request.getThreads())
          .putAllPluginOptions(request.getPluginOptionsMap()).setMapping(request.getMapping())
          .build(), service.postCopyTiming());
      // A target that takes it gets the index while the set is committed: it plans the
      // restore meanwhile, and starts the process on Go, once the dump here has succeeded.
      boolean early = pages.takesIndexBeforeSet();
      if (early) {
        PageServer server = pages;
        memory.beforeCommit("index", () -> server.offer(memory, true));
      }
      stopped = true;
      DumpStatsEntry stats = new Dumper(service.node(), plugins).writingTo(sets)
          .servingMemory(memory).dump(pid, SETS.resolve(MigrationArea.FINAL),
              options.withLeaveStopped(true), progress);
      long dumpedAt = System.nanoTime();
      // Frozen from the dump's first phase (the freeze) on.
      long frozenUs = stats.getPhasesList().stream().mapToLong(PhaseTimeEntry::getTimeUs).sum();
      long bytes = sets.last().bytesSent();
      reply.addRounds(MigrationRound.newBuilder().setKind("final").setBytes(bytes)
          .setPages(stats.getPagesWritten()).setTimeUs(frozenUs));
      if (early) {
        pages.go();
      } else {
        pages.offer(memory, false);
      }
      long indexedAt = early ? dumpedAt : System.nanoTime();
      MigrationStepReply restored;
      try {
        restored = pages.awaitRestored();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw AccrException.failed("post-copy interrupted");
      }
      long runningAt = System.nanoTime();
      running = true;
      // Until the process started there: the end of its restore and the reply are not down.
      long untilRunningUs = Math.max(0, (runningAt - dumpedAt) / 1000 - restored.getRunningUs());
      reply.setDowntimeUs(frozenUs + untilRunningUs).setPid(restored.getPid())
          .setRestoreUs(restored.getRestoreUs()).clearDevices()
          .addAllDevices(restored.getDevicesList())
          .addAllDowntimePhases(downtimePhases(stats, (indexedAt - dumpedAt) / 1000,
              untilRunningUs, restored));
      LazyPagesInfo figures;
      try {
        figures = pages.awaitEnd();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw AccrException.failed("post-copy interrupted");
      } catch (AccrException e) {
        throw AccrException.failed("%s; the process ran on node %s and is lost with it (the"
            + " risk of post-copy): its stopped copy here is killed", e.getMessage(),
            request.getToNode());
      }
      long end = System.nanoTime();
      reply.setPostCopy(figures).setPostCopyBytes(pages.bytesSent())
          .setPostCopyUs((end - runningAt) / 1000).setTotalUs((end - start) / 1000)
          .setBytesSent(bytes + pages.bytesSent());
      return Response.newBuilder().setMigrate(reply).build();
    } finally {
      if (pages != null) {
        pages.close();
      }
      memory.close();
      if (running) {
        service.node().kill(pid); // it runs on the target now (or was lost there)
      } else {
        if (stopped && process.state() == SimProcess.State.STOPPED) {
          service.node().resumeTree(pid);
        }
        discard(target);
      }
    }
  }

  /**
   * Where a post-copy's downtime went, phases that add up to it: the source's stop (with the
   * index, sent before the commit or, to an older target, after: {@code indexUs}), what the
   * target's restore phases do not account for ("transfer": frames in flight, the restore
   * beginning), and the target's restore phases. The target's restore runs while the source
   * commits its set (after an index sent before it): that overlap is taken off the source's
   * last phases, so that each moment counts once.
   */
  static List<PhaseTimeEntry> downtimePhases(DumpStatsEntry stats, long indexUs,
      long untilRunningUs, MigrationStepReply restored) {
    List<PhaseTimeEntry> phases = new ArrayList<>(stats.getPhasesList());
    if (indexUs > 0) {
      phases.add(phase("index", indexUs));
    }
    long targetUs = restored.getPhasesList().stream().mapToLong(PhaseTimeEntry::getTimeUs)
        .sum();
    long afterIndexUs = untilRunningUs - indexUs;
    long overlapUs = targetUs - afterIndexUs;
    for (int i = phases.size() - 1; i >= 0 && overlapUs > 0; i--) {
      PhaseTimeEntry p = phases.get(i);
      long cut = Math.min(overlapUs, p.getTimeUs());
      phases.set(i, phase(p.getPhase(), p.getTimeUs() - cut));
      overlapUs -= cut;
    }
    phases.add(phase("transfer", Math.max(0, afterIndexUs - targetUs)));
    for (PhaseTimeEntry p : restored.getPhasesList()) {
      phases.add(phase("target " + p.getPhase(), p.getTimeUs()));
    }
    return phases;
  }

  /**
   * Where a pre-copy's (or a cold migration's) downtime went: the source's stop (the final
   * dump's phases), what the target's phases do not account for ("transfer": the set's last
   * frames, the request), and the target's: "staging" (waiting for the rounds still loading),
   * then its restore's.
   */
  private static List<PhaseTimeEntry> stopPhases(DumpStatsEntry stats, long afterStopUs,
      MigrationStepReply restored) {
    List<PhaseTimeEntry> phases = new ArrayList<>(stats.getPhasesList());
    long targetUs = restored.getPhasesList().stream().mapToLong(PhaseTimeEntry::getTimeUs)
        .sum();
    phases.add(phase("transfer", Math.max(0, afterStopUs - targetUs)));
    for (PhaseTimeEntry p : restored.getPhasesList()) {
      phases.add(phase("target " + p.getPhase(), p.getTimeUs()));
    }
    return phases;
  }

  private static PhaseTimeEntry phase(String name, long us) {
    return PhaseTimeEntry.newBuilder().setPhase(name).setTimeUs(us).build();
  }

  /**
   * Before anything is stopped, has the target check that it can take the process (device
   * mapping, memory, plugins) on a probe: a pre-dump that stores no memory, its memory counted
   * here. Exit 4 with the target's reason when it cannot; the process runs on untouched.
   */
  private void probe(int pid, NodeClient target, RemoteDestination sets, DumpOptions options,
      MigrateReply.Builder reply) throws IOException {
    long t0 = System.nanoTime();
    new Dumper(service.node(), plugins).writingTo(sets).probe(pid, SETS.resolve("check"),
        options, ProgressListener.NONE);
    long bytes = treeOf(pid).stream().filter(p -> p.state() != SimProcess.State.EXITED)
        .mapToLong(p -> p.memory().residentPages()).sum() * MemoryView.PAGE_SIZE;
    MigrationStepReply r = step(target, MigrationStepRequest.newBuilder().setCheck("check")
        .setMapping(request.getMapping()).setMemoryBytes(bytes));
    reply.clearDevices().addAllDevices(r.getDevicesList())
        .setCheckUs((System.nanoTime() - t0) / 1000);
  }

  /** The processes of the tree rooted at {@code pid} (zombies too). */
  private List<SimProcess> treeOf(int pid) {
    List<SimProcess> all = service.node().processes();
    List<SimProcess> tree = new ArrayList<>();
    Set<Integer> inTree = new HashSet<>(Set.of(pid));
    for (boolean grew = true; grew; ) {
      grew = false;
      for (SimProcess p : all) {
        if (!inTree.contains(p.pid()) && inTree.contains(p.ppid())) {
          grew = inTree.add(p.pid());
        }
      }
    }
    for (SimProcess p : all) {
      if (inTree.contains(p.pid())) {
        tree.add(p);
      }
    }
    return tree;
  }

  private Dumper dumper(RemoteDestination sets, Path parent) {
    return new Dumper(service.node(), plugins).writingTo(sets)
        .withParent(parent, p -> p);
  }

  private static CheckpointId idOf(RemoteDestination sets) {
    return sets.lastId();
  }

  /**
   * Waits, the process running, until the target has loaded the rounds it received ahead of
   * the stop; returns how long that took. A target that cannot say (an older node) is not
   * waited for: its restore waits instead.
   */
  private long awaitStaged(NodeClient target) {
    long t0 = System.nanoTime();
    try {
      step(target, MigrationStepRequest.newBuilder().setAwaitStaged(true));
    } catch (AccrException e) {
      LOG.info("migration " + id + ": the target does not say when its rounds are loaded: "
          + e.getMessage());
    }
    return (System.nanoTime() - t0) / 1000;
  }

  /** Has the target check set {@code name}: exit 4 and its reason when it cannot take it. */
  private void check(NodeClient target, String name, MigrateReply.Builder reply) {
    MigrationStepReply r = step(target, MigrationStepRequest.newBuilder().setCheck(name)
        .setMapping(request.getMapping()));
    reply.clearDevices().addAllDevices(r.getDevicesList());
  }

  private MigrationStepReply step(NodeClient target, MigrationStepRequest.Builder step) {
    Response r = target.call(Request.newBuilder().setMigrationStep(step.setMigration(id))
        .build(), ProgressListener.NONE);
    return r.getMigrationStep();
  }

  private void discard(NodeClient target) {
    try {
      step(target, MigrationStepRequest.newBuilder().setDiscard(true));
    } catch (AccrException e) {
      LOG.info("migration " + id + ": the target could not drop its sets: " + e.getMessage());
    }
  }
}
