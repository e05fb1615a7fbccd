package dev.accr.engine;

import dev.accr.api.AccrException;
import dev.accr.api.AccrPlugin;
import dev.accr.api.DevicePair;
import dev.accr.api.MemoryView;
import dev.accr.api.Workload;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.plugin.PluginHost;
import dev.accr.plugin.PluginSession;
import dev.accr.plugin.SessionSetup;
import dev.accr.proto.RestoreStatsEntry;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Restores an image set on a node in two steps: {@link #plan} reads and verifies every image,
 * maps the devices and checks the memory budget without creating anything; {@link #recreate}
 * builds the process detached from the node (so a failure leaves nothing behind), and only
 * then puts it into the process table under its original pid.
 */
public final class Restorer {
  /** What a restore did, and where the image's devices went. */
  public record Result(SimProcess process, List<SimProcess> tree, long pagesRestored,
      long bytesRead, long timeUs, List<DevicePair> devices, RestoreStatsEntry stats,
      LazyRestore lazy) {}

  /**
   * A caller's own check of the set a restore reads (e.g. that its paths are ones the caller
   * may name), run on the very images the restore then uses.
   */
  @FunctionalInterface
  public interface SetCheck {
    SetCheck NONE = set -> {};

    void check(ImageSet set) throws IOException;
  }

  private final Node node;
  private final PluginHost plugins;
  private final Cancellation cancellation;
  private final UnaryOperator<Path> parentPaths;
  /** Post-copy: where the memory comes from (another node), or null: the set. */
  private final RemoteMemory remote;
  /** The memory of the chain's oldest links, loaded ahead (pre-copy's target), or null. */
  private StagedChain stage;

  public Restorer(Node node, PluginHost plugins) {
    this(node, plugins, Cancellation.NONE, UnaryOperator.identity(), null);
  }

  private Restorer(Node node, PluginHost plugins, Cancellation cancellation,
      UnaryOperator<Path> parentPaths, RemoteMemory remote) {
    this.remote = remote;
    this.node = node;
    this.plugins = plugins;
    this.cancellation = cancellation;
    this.parentPaths = parentPaths;
  }

  /** This restorer, stopping (through the failure path) when {@code c} says so. */
  public Restorer cancelledBy(Cancellation c) {
    return new Restorer(node, plugins, c, parentPaths, remote);
  }

  /**
   * This restorer, reading the parents of an incremental set where {@code confine} says (it
   * throws for a parent the caller may not name).
   */
  public Restorer parentsConfinedBy(UnaryOperator<Path> confine) {
    return new Restorer(node, plugins, cancellation, confine, remote);
  }

  /**
   * This restorer, for the target of a post-copy migration: the set holds no memory; the
   * process runs at once and gets its host pages and its plugins' device memory from {@code
   * memory} (the source node) on first touch and in the background. A tree too: one source serves every process of it.
   */
  public Restorer withRemoteMemory(RemoteMemory memory) {
    return new Restorer(node, plugins, cancellation, parentPaths, memory);
  }

  /**
   * This restorer, adopting the pages {@code staged} holds for the oldest links of the chain
   * instead of reading those links (the target of a pre-copy migration loads its rounds ahead
   * of the stop). A stage that does not hold exactly the oldest links of the chain, or a tree
   * that maps shared memory, is not used: every link is read from its images, and the plan
   * frees the stage's host pages before it checks for room. The caller closes the stage.
   */
  public Restorer withStage(StagedChain staged) {
    Restorer r = new Restorer(node, plugins, cancellation, parentPaths, remote);
    r.stage = staged;
    return r;
  }

  /** Plans and recreates the set in {@code dir}. */
  public Result restore(Path dir, RestoreOptions options, ProgressListener progress)
      throws IOException {
    return recreate(plan(dir, options, progress));
  }

  /**
   * Reads and verifies the set in {@code dir}, checks that its pid is free, its program
   * installed, its files present and its memory within what the node has left, then starts the
   * plugins' restore session and maps the image's devices. Nothing is created; closing the
   * plan unused rolls the plugins back.
   */
  public RestorePlan plan(Path dir, RestoreOptions options, ProgressListener progress)
      throws IOException {
    return plan(dir, options, progress, SetCheck.NONE);
  }

  /**
   * {@link #plan(Path, RestoreOptions, ProgressListener)}, running {@code check} on the set as
   * it was read, before anything else: a set renamed onto {@code dir} after the check is not
   * the one restored (its files carry another checkpoint id and are refused).
   */
  public RestorePlan plan(Path dir, RestoreOptions options, ProgressListener progress,
      SetCheck check) throws IOException {
    long t0 = System.nanoTime();
    ImageChain chain = ImageChain.read(dir, parentPaths);
    ImageSet set = chain.last();
    check.check(set);
    if (set.inventory().getPreDump()) {
      throw AccrException.failed("restore: %s is a pre-dump (memory only): restore a dump made"
          + " with --parent %s", dir, dir);
    }
    List<RestorePlan.ProcessPlan> processes = new ArrayList<>();
    long restoredPages = 0;
    Map<Integer, Workload> programs = new HashMap<>();
    for (ImageSet.ProcessImages images : RestorePlan.treeImages(set, plugins)) {
      int pid = images.pstree().getPid();
      if (node.hasPid(pid)) {
        throw AccrException.failed("restore: pid %d is already taken on node %s", pid,
            node.name());
      }
      if (images.pstree().getZombie()) {
        // A zombie runs nothing: it keeps its parent's program (a fork's child runs it too).
        Workload parents = programs.getOrDefault(images.pstree().getPpid(),
            programs.values().stream().findFirst().orElse(null));
        programs.put(pid, parents);
        processes.add(new RestorePlan.ProcessPlan(images, parents, null));
        continue;
      }
      Workload workload = node.registry().workloads().get(images.core().getExe());
      if (workload == null) {
        throw AccrException.incompatible("restore: program '%s' is not installed on node %s",
            images.core().getExe(), node.name());
      }
      programs.put(pid, workload);
      RestorePlan.checkWorkingDirectory(set, images.core());
      ChainPages pages = new ChainPages(chain, pid);
      restoredPages += pages.livePages(chain, pid);
      processes.add(new RestorePlan.ProcessPlan(images, workload, pages));
    }
    Workload any = programs.values().stream().filter(w -> w != null).findFirst().orElse(null);
    processes.replaceAll(pp -> pp.workload() != null || any == null ? pp
        : new RestorePlan.ProcessPlan(pp.images(), any, pp.pages()));
    RestorePlan.checkFiles(set);
    int staged = stage == null || remote != null || mapsShared(processes) ? 0
        : stage.covers(chain);
    if (stage != null && staged == 0) {
      stage.releaseHostPages(); // not adopted: their room is this restore's
    }
    // The staged pages the restore adopts are held already (and counted so): only the others
    // need room. Staged pages a newer link replaces, or outside its mappings, are not adopted.
    long fresh = Math.max(0, restoredPages
        - (staged > 0 ? adoptable(processes, chain.links().size() - staged) : 0));
    long total = node.topology().getCpusList().stream().mapToLong(c -> c.getMemoryBytes()).sum();
    RestorePlan.checkMemory(set, fresh, node.name(),
        total - node.memory().residentPages() * MemoryView.PAGE_SIZE);
    node.checkRoom(processes.size() == 1 ? "restore of process " + processes.getFirst().pid()
        : "restore of a tree of " + processes.size() + " processes",
        fresh * MemoryView.PAGE_SIZE, null);
    PluginSession session = plugins.begin(AccrPlugin.Stage.RESTORE,
        SessionSetup.of(node, dir, set.id()).withParallelism(options.threads())
            .withOptions(options.pluginOptions()).withPolicy(options.mapping())
            .withProgress(cancellation.checking(progress))
            .withCancelled(cancellation::requested));
    if (remote != null) {
      session.readBulkFrom(remote.bulk());
    } else if (stage != null) {
      session.stagedDeviceMemory(stage::deviceStage);
    }
    try {
      List<DevicePair> devices = session.mapDevices(node.topology());
      return new RestorePlan(chain, processes, devices, session, options, progress, t0)
          .staging(staged > 0 ? stage : null, staged);
    } catch (RuntimeException e) {
      closeAfterFailure(session, e);
      throw e;
    }
  }

  /**
   * Creates the planned processes: memory, pages, threads, files and device state, each
   * detached from the node; then puts them all into the process table and, as {@link
   * RestoreOptions#start()} says, starts them together. Ends the plan's plugin session; on
   * failure nothing of the tree is left.
   */
  public Result recreate(RestorePlan plan) throws IOException {
    PluginSession session = plan.session();
    TreeBuild build = new TreeBuild(node, plan);
    boolean ok = false;
    LazyRestore lazy = null;
    PhaseClock clock = PhaseClock.since("restore of " + plan.pid(), plan.startNanos(), "plan");
    try {
      build.create();
      clock.begin("memory");
      build.mapMemory();
      lazy = LazyRestores.attachTree(plan, build.live(), node, cancellation, remote);
      long bytesRead = 0;
      List<ImageSet> links = lazy != null ? List.of() : plan.chain().links();
      int staged = lazy != null ? 0 : plan.stagedLinks();
      for (int i = 0; i < links.size() - staged; i++) {
        bytesRead += new PageLoader(links.get(i), plan.options().threads(),
            cancellation.checking(plan.progress()), node.buffers(), cancellation::requested)
            .load(build.pageSink(i));
      }
      if (staged > 0) {
        build.adoptStaged(plan.stage(), links.size() - staged);
      }
      if (plan.options().trackMem()) {
        // Written from here on is what a dump with this set as parent stores.
        build.trackWrites(plan.set().id().toString());
      }
      clock.begin("devices");
      build.threadsAndFiles();
      LazyRestores.noteEagerPlugins(lazy, plan);
      session.treeRestored(build.processes());
      if (remote != null) {
        clock.begin("wait"); // for the source's word that its dump succeeded
        remote.awaitGo();
      }
      cancellation.check(); // the last moment: once adopted the processes are the node's
      clock.begin("start");
      build.adopt();
      build.resumeDevices();
      if (plan.options().start() == RestoreOptions.Start.RUN) {
        build.start();
      }
      clock.end(); // the process runs: its pusher's start is not part of its stop
      if (lazy != null) {
        lazy.start();
      }
      session.succeeded();
      ok = true;
      long pages = build.residentPages();
      SimProcess root = build.root();
      RestoreStatsEntry stats = RestoreStatsEntry.newBuilder().setPid(root.pid())
          .setNode(node.name()).setRestoreTimeEpochMs(System.currentTimeMillis())
          .setTotalTimeUs(clock.elapsedUs()).setPagesRestored(pages)
          .addAllPhases(clock.phases())
          .addAllMoved(BytesMoved.restored(bytesRead, pages, session)).build();
      return new Result(root, build.processes(), pages, bytesRead, stats.getTotalTimeUs(),
          plan.devices(), stats, lazy);
    } finally {
      try {
        plan.close();
      } finally {
        if (!ok) {
          if (lazy != null) {
            lazy.abandon("the restore failed");
          }
          build.discard();
        }
      }
    }
  }

  /** The staged pages {@link TreeBuild#adoptStaged} maps for the links from {@code link} on. */
  private long adoptable(List<RestorePlan.ProcessPlan> processes, int link) {
    long n = 0;
    for (RestorePlan.ProcessPlan pp : processes) {
      if (!pp.zombie()) {
        n += stage.pagesWithin(pp.pid(), pp.pages().ownRanges(link));
      }
    }
    return n;
  }

  /** Whether a process of the tree maps shared memory (its pages are not staged). */
  private static boolean mapsShared(List<RestorePlan.ProcessPlan> processes) {
    return processes.stream().anyMatch(pp -> pp.images().mm().getVmasList().stream()
        .anyMatch(v -> v.getShmemId() != 0));
  }

  private static void closeAfterFailure(PluginSession session, RuntimeException e) {
    try {
      session.close();
    } catch (RuntimeException finiFailed) {
      e.addSuppressed(finiFailed);
    }
  }
}
