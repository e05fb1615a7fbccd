package dev.accr.engine;

import dev.accr.api.AccrException;
import dev.accr.api.AccrPlugin;
import dev.accr.api.CorruptImageException;
import dev.accr.api.DeviceMapping;
import dev.accr.api.DevicePair;
import dev.accr.api.MemoryView;
import dev.accr.api.Workload;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.kernel.SimThread;
import dev.accr.kernel.Vma;
import dev.accr.plugin.PluginHost;
import dev.accr.plugin.PluginSession;
import dev.accr.plugin.SessionSetup;
import dev.accr.proto.CoreEntry;
import dev.accr.proto.FdEntry;
import dev.accr.proto.FileEntry;
import dev.accr.proto.RegFileEntry;
import dev.accr.proto.RestoreStatsEntry;
import dev.accr.proto.ThreadCoreEntry;
import dev.accr.proto.VmaEntry;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
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
  public record Result(SimProcess process, long pagesRestored, long bytesRead, long timeUs,
      List<DevicePair> devices, RestoreStatsEntry stats) {}

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

  public Restorer(Node node, PluginHost plugins) {
    this(node, plugins, Cancellation.NONE, UnaryOperator.identity());
  }

  private Restorer(Node node, PluginHost plugins, Cancellation cancellation,
      UnaryOperator<Path> parentPaths) {
    this.node = node;
    this.plugins = plugins;
    this.cancellation = cancellation;
    this.parentPaths = parentPaths;
  }

  /** This restorer, stopping (through the failure path) when {@code c} says so. */
  public Restorer cancelledBy(Cancellation c) {
    return new Restorer(node, plugins, c, parentPaths);
  }

  /**
   * This restorer, reading the parents of an incremental set where {@code confine} says (it
   * throws for a parent the caller may not name).
   */
  public Restorer parentsConfinedBy(UnaryOperator<Path> confine) {
    return new Restorer(node, plugins, cancellation, confine);
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
    ImageSet.ProcessImages images = RestorePlan.rootImages(set, plugins);
    int pid = images.core().getPid();
    if (node.hasPid(pid)) {
      throw AccrException.failed("restore: pid %d is already taken on node %s", pid, node.name());
    }
    Workload workload = node.registry().workloads().get(images.core().getExe());
    if (workload == null) {
      throw AccrException.incompatible("restore: program '%s' is not installed on node %s",
          images.core().getExe(), node.name());
    }
    RestorePlan.checkWorkingDirectory(set, images.core());
    RestorePlan.checkFiles(set);
    long total = node.topology().getCpusList().stream().mapToLong(c -> c.getMemoryBytes()).sum();
    ChainPages pages = new ChainPages(chain, pid);
    long restoredPages = pages.livePages(chain, pid);
    RestorePlan.checkMemory(set, restoredPages, node.name(),
        total - node.memory().residentPages() * MemoryView.PAGE_SIZE);
    node.checkRoom("restore of process " + pid, restoredPages * MemoryView.PAGE_SIZE, null);
    PluginSession session = plugins.begin(AccrPlugin.Stage.RESTORE,
        SessionSetup.of(node, dir, set.id()).withParallelism(options.threads())
            .withOptions(options.pluginOptions()).withPolicy(options.mapping())
            .withProgress(cancellation.checking(progress))
            .withCancelled(cancellation::requested));
    try {
      List<DevicePair> devices = session.mapDevices(node.topology());
      return new RestorePlan(chain, pages, images, workload, devices, session, options, progress,
          t0);
    } catch (RuntimeException e) {
      closeAfterFailure(session, e);
      throw e;
    }
  }

  /**
   * Creates the planned process: memory, pages, threads, files and device state; puts it into
   * the process table and, as {@link RestoreOptions#start()} says, starts it. Ends the plan's
   * plugin session; on failure nothing of the process is left.
   */
  public Result recreate(RestorePlan plan) throws IOException {
    ImageSet set = plan.set();
    CoreEntry core = plan.images().core();
    PluginSession session = plan.session();
    String cwd = core.getCwd().isEmpty() ? System.getProperty("user.dir") : core.getCwd();
    SimProcess p;
    try {
      p = node.newProcess(core.getPid(), plan.workload(), core.getArgvList(), Path.of(cwd),
          core.getStepDelayMs());
    } catch (RuntimeException e) {
      plan.close(); // the plugins' fini(ok=false): nothing was created
      throw e;
    }
    boolean ok = false;
    boolean adopted = false;
    PhaseClock clock = PhaseClock.since("restore of " + core.getPid(), plan.startNanos(), "plan");
    try {
      clock.begin("memory");
      session.postForking(p);
      mapMemory(plan, p);
      long bytesRead = 0;
      List<ImageSet> links = plan.chain().links();
      for (int i = 0; i < links.size(); i++) {
        bytesRead += new PageLoader(links.get(i), plan.options().threads(),
            cancellation.checking(plan.progress()), node.buffers(), cancellation::requested)
            .load(plan.chainPages().filter(i, new PageLoader.PageSink() {
              @Override
              public void write(int pid, long vaddr, MemorySegment source, long offset,
                  int pages) {
                p.memory().writePages(vaddr, source, offset, pages);
              }

              @Override
              public MemorySegment fresh(int pid, long vaddr, int pages) {
                return p.memory().freshRun(vaddr, pages);
              }
            }));
      }
      if (plan.options().trackMem()) {
        // Written from here on is what a dump with this set as parent stores.
        p.memory().trackWrites(set.id().toString());
      }
      clock.begin("devices");
      addThreads(core, p);
      openFiles(plan, p);
      checkRestored(plan.workload(), p);
      cancellation.check(); // the last moment: once adopted the process is the node's
      clock.begin("start");
      node.adopt(p, false);
      adopted = true;
      session.resumeDevicesLate(p);
      if (plan.options().start() == RestoreOptions.Start.RUN) {
        p.start();
      }
      clock.end();
      session.succeeded();
      ok = true;
      long pages = p.memory().residentPages();
      RestoreStatsEntry stats = RestoreStatsEntry.newBuilder().setPid(p.pid())
          .setNode(node.name()).setRestoreTimeEpochMs(System.currentTimeMillis())
          .setTotalTimeUs(clock.elapsedUs()).setPagesRestored(pages)
          .addAllPhases(clock.phases())
          .addAllMoved(BytesMoved.restored(bytesRead, pages, session)).build();
      return new Result(p, pages, bytesRead, stats.getTotalTimeUs(), plan.devices(), stats);
    } finally {
      try {
        plan.close();
      } finally {
        if (!ok) {
          if (adopted) {
            node.kill(p.pid());
          }
          p.close();
        }
      }
    }
  }

  private static void mapMemory(RestorePlan plan, SimProcess p) {
    for (VmaEntry v : plan.images().mm().getVmasList()) {
      Vma.Kind kind = ProcessCollector.kindOf(v.getKind());
      if (kind == Vma.Kind.DEVICE) {
        DeviceMapping moved = plan.session().updateVmaMap(p, new DeviceMapping(v.getStart(),
            v.getLength(), v.getProt(), v.getPath(), v.getOffset()));
        p.memory().mapDevice(moved, v.getName());
        continue;
      }
      p.memory().map(v.getStart(), v.getLength(), v.getProt(), kind, v.getName(), v.getPath(),
          v.getOffset());
    }
  }

  private static void addThreads(CoreEntry core, SimProcess p) {
    for (ThreadCoreEntry t : core.getThreadsList()) {
      SimThread thread = p.addThread(t.getTid());
      thread.setPc(t.getPc());
      for (int i = 0; i < SimThread.GPR_COUNT; i++) {
        thread.setGpr(i, t.getGpr(i));
      }
    }
  }

  private static void openFiles(RestorePlan plan, SimProcess p) {
    for (FdEntry fd : plan.images().core().getFdsList()) {
      FileEntry f = plan.set().files().get(fd.getFileId());
      if (f.hasExt()) {
        p.files().installDevice(fd.getFd(), plan.session().restoreExtFile(f.getExt().getPlugin(),
            p, fd.getFd(), f.getExt().getPath()));
        continue;
      }
      RegFileEntry reg = f.getReg();
      p.files().install(fd.getFd(), Path.of(reg.getPath()), reg.getFlags(), reg.getPos());
    }
  }

  /**
   * Lets the program check that what the image gave it is reachable. Whatever else it throws
   * reading hostile state (a descriptor that is not there, an address that is not mapped) is
   * the image's fault too: exit code 3 naming the process's core image.
   */
  private static void checkRestored(Workload workload, SimProcess p) {
    try {
      workload.checkRestored(p);
    } catch (CorruptImageException e) {
      throw e;
    } catch (AccrException e) {
      if (e.exitCode() != AccrException.FAILED) {
        throw e;
      }
      throw new CorruptImageException("core-" + p.pid() + ".img", "program '" + workload.name()
          + "' cannot run from this image: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      throw new CorruptImageException("core-" + p.pid() + ".img", "program '" + workload.name()
          + "' cannot run from this image: " + e, e);
    }
  }

  private static void closeAfterFailure(PluginSession session, RuntimeException e) {
    try {
      session.close();
    } catch (RuntimeException finiFailed) {
      e.addSuppressed(finiFailed);
    }
  }
}
