package dev.accr.engine;

import dev.accr.api.AccrException;
import dev.accr.api.AccrPlugin;
import dev.accr.image.ImageSetWriter;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.DirtyPages;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.plugin.PluginHost;
import dev.accr.plugin.PluginSession;
import dev.accr.plugin.SessionSetup;
import dev.accr.proto.DumpStatsEntry;
import dev.accr.proto.InventoryEntry;
import dev.accr.kernel.Vma;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Dumps a process tree: pause its devices, freeze, save device state, collect, write the image
 * set, then kill the tree, let it run on, or leave it stopped (plugins are told it survives, so
 * its devices are left as they were) until a thaw or a kill. If anything fails, plugins roll
 * back (devices run again), the tree is thawed exactly as it was and no image set appears.
 *
 * <p>With a parent set the dump is incremental: it stores, for every process of the tree, the
 * pages written since the parent (when its writes were tracked since exactly that set;
 * otherwise every page, still linked to the parent), each shared-memory object once ({@link
 * IncrementalPages}). A pre-dump saves memory only, the tree frozen just long enough to start a
 * new tracking period and record its processes and mappings; it writes while the tree runs on.
 */
public final class Dumper {
  private final Node node;
  private final PluginHost plugins;
  private final Cancellation cancellation;
  private final Path parent;
  private final UnaryOperator<Path> parentPaths;
  private final SetDestination destination;
  /** Post-copy: memory stays with the stopped process, served from here; null otherwise. */
  private final ServedMemory served;

  public Dumper(Node node, PluginHost plugins) {
    this(node, plugins, Cancellation.NONE, null, UnaryOperator.identity(),
        SetDestination.LOCAL, null);
  }

  private Dumper(Node node, PluginHost plugins, Cancellation cancellation, Path parent,
      UnaryOperator<Path> parentPaths, SetDestination destination, ServedMemory served) {
    this.served = served;
    this.node = node;
    this.plugins = plugins;
    this.cancellation = cancellation;
    this.parent = parent;
    this.parentPaths = parentPaths;
    this.destination = destination;
  }

  /** This dumper, stopping (through the failure path) when {@code c} says so. */
  public Dumper cancelledBy(Cancellation c) {
    return new Dumper(node, plugins, c, parent, parentPaths, destination, served);
  }

  /**
   * This dumper, writing its sets where {@code d} opens them (e.g. into another node's image
   * store) instead of into a local directory.
   */
  public Dumper writingTo(SetDestination d) {
    return new Dumper(node, plugins, cancellation, parent, parentPaths, d, served);
  }

  /**
   * This dumper, writing incremental sets whose parent is the set in {@code dir} (null: full
   * sets); {@code confine} maps each directory of the parent's chain to the one to read, or
   * throws when the caller may not name it.
   */
  public Dumper withParent(Path dir, UnaryOperator<Path> confine) {
    return new Dumper(node, plugins, cancellation, dir, confine, destination, served);
  }

  /**
   * This dumper, for a post-copy migration: a dump (which must leave the process stopped)
   * writes the metadata and device state but no memory, neither host pages nor the device
   * memory of plugins that can serve it; {@code memory} then serves both while the process
   * stays stopped; for a tree, the memory of each of its processes.
   */
  public Dumper servingMemory(ServedMemory memory) {
    return new Dumper(node, plugins, cancellation, parent, parentPaths, destination, memory);
  }

  /**
   * A pre-dump that stores no memory (host pages and the device memory of plugins that can
   * serve it): what a target reads to check that it can take the tree (its mappings, devices,
   * plugins) before anything else happens to it. Frozen only as long as a pre-dump is; write
   * tracking is left as it was.
   */
  public DumpStatsEntry probe(int pid, Path dir, DumpOptions options, ProgressListener reports)
      throws IOException {
    return servingMemory(new ServedMemory()).preDump(pid, dir, options, reports);
  }

  /**
   * Dumps process {@code pid} and its descendants (the tree it is the root of) into directory
   * {@code dir}; returns the statistics.
   */
  public DumpStatsEntry dump(int pid, Path dir, DumpOptions options, ProgressListener reports)
      throws IOException {
    ProgressListener progress = cancellation.checking(reports);
    // exit code 5 before anything is written
    LazyRestores.refuseWhileLoading(node.process(pid), "dump");
    PhaseClock clock = PhaseClock.start("dump of " + pid);
    try (ImageSetWriter set = destination.open(dir)) {
      ImageSet parentSet = readParent(pid, set,
          !options.leaveRunning() && !options.leaveStopped());
      boolean ok = false;
      TreeFreezer tree = new TreeFreezer(node, pid);
      Map<Integer, DirtyPages> dirty = Map.of();
      try {
        // As in CRIU: plugins finish (and roll back on failure) when the session closes,
        // before the processes run again.
        try (PluginSession session = plugins.begin(AccrPlugin.Stage.DUMP,
            setup(set, parentSet, options, progress)
                .withLeaveRunning(options.leaveRunning() || options.leaveStopped()))) {
          if (served != null) {
            if (!options.leaveStopped()) {
              throw new IllegalArgumentException("a post-copy dump leaves the process stopped");
            }
            session.serveMemoryLater();
          }
          clock.begin("freeze");
          tree.freeze(session);
          List<SimProcess> members = tree.processes();
          List<SimProcess> processes = members.stream().filter(p -> !ProcessTree.zombie(p))
              .toList();
          if (processes.isEmpty()) {
            throw AccrException.notFound("process %d has exited, and its tree with it (no such"
                + " process to dump)", pid);
          }
          SimProcess process = processes.getFirst();
          long frozenAt = System.nanoTime();
          clock.begin("devices");
          session.treeFrozen(processes);
          for (SimProcess p : processes) {
            session.checkpointDevices(p);
          }
          if (served != null) {
            for (SimProcess p : processes) {
              served.devices(session.serveDeviceMemory(p));
            }
          }
          cancellation.check();
          if (parentSet != null || options.leaveRunning() || options.leaveStopped()
              || processes.stream().anyMatch(p -> p.memory().trackingSince() != null)) {
            // Device state is saved: what plugins wrote into memory is in this period.
            dirty = IncrementalPages.track(processes, set.id().toString());
          }
          clock.begin("memory");
          TreeCollector.Collected c = TreeCollector.collect(node, members, session);
          DumpStatsEntry.Builder stats = null;
          int firstPagesFile = 1;
          for (SimProcess p : processes) {
            DumpStatsEntry.Builder mine = images().write(p, set, options, progress,
                c.of(p.pid()), p.memory().vmas(), dirty.get(p.pid()), parentSet,
                clock, false, firstPagesFile, c::storesPages);
            firstPagesFile += mine.getThreads();
            stats = stats == null ? mine : TreeCollector.add(stats, mine);
          }
          c.writeShared(set);
          session.dumpDevicesLate();
          if (parentSet != null) {
            stats.addAllPluginsFull(session.usedWithoutTracking());
          }
          clock.end();
          long frozenUs = (System.nanoTime() - frozenAt) / 1000;
          stats.setFrozenTimeUs(frozenUs).setTotalTimeUs(clock.elapsedUs())
              .addAllPhases(clock.phases()).addAllMoved(BytesMoved.dumped(stats, session));
          ProcessImageWriter.writeStats(set, stats);
          cancellation.check(); // the last moment: after the commit the dump has happened
          if (served != null) {
            served.complete(clock);
          }
          clock.begin("sync");
          set.commit(inventory(pid, parentSet, set).addAllPlugins(session.used()));
          clock.end();
          session.succeeded();
          ok = true;
          // The reply has the sync phase, which the file in the set cannot.
          return stats.clearPhases().addAllPhases(clock.phases())
              .setTotalTimeUs(clock.elapsedUs()).build();
        }
      } finally {
        if (!ok) {
          IncrementalPages.putBack(dirty);
        }
        // The processes are thawed or killed whatever a plugin does.
        if (ok && options.leaveStopped()) {
          tree.stayStopped();
        } else if (ok && !options.leaveRunning()) {
          tree.kill();
        } else {
          tree.thaw();
        }
      }
    } catch (AccrException e) {
      throw e;
    } catch (IOException e) {
      throw AccrException.failed("dump of %d into %s failed: %s", pid, dir, e.getMessage());
    }
  }

  /**
   * Saves the memory of the tree rooted at {@code pid} into {@code dir} while it runs on:
   * frozen only to start a new period of write tracking and to record the processes, their
   * threads, mappings and what they share. A later dump (or pre-dump) with this set as parent
   * stores what was written since.
   */
  public DumpStatsEntry preDump(int pid, Path dir, DumpOptions options, ProgressListener reports)
      throws IOException {
    ProgressListener progress = cancellation.checking(reports);
    LazyRestores.refuseWhileLoading(node.process(pid), "pre-dump");
    PhaseClock clock = PhaseClock.start("pre-dump of " + pid);
    List<SimProcess> live = new ArrayList<>();
    try (ImageSetWriter set = destination.open(dir)) {
      ImageSet parentSet = readParent(pid, set, false);
      Map<Integer, DirtyPages> dirty = Map.of();
      boolean ok = false;
      // Serving its memory, a pre-dump is a probe (see probe): it stores no memory.
      boolean probe = served != null;
      try (PluginSession session = plugins.begin(AccrPlugin.Stage.PRE_DUMP,
          setup(set, parentSet, options, progress).withLeaveRunning(true))) {
        if (probe) {
          session.serveMemoryLater();
        }
        TreeCollector.Collected c;
        Map<Integer, List<Vma>> vmas = new HashMap<>();
        long frozenUs;
        clock.begin("freeze");
        TreeFreezer tree = new TreeFreezer(node, pid);
        long frozenAt = System.nanoTime();
        try {
          tree.freeze(null);
          frozenAt = System.nanoTime();
          List<SimProcess> members = tree.processes();
          members.stream().filter(p -> !ProcessTree.zombie(p)).forEach(live::add);
          if (live.isEmpty()) {
            throw AccrException.notFound("pre-dump of %d: the process has exited", pid);
          }
          if (!probe) {
            dirty = IncrementalPages.track(live, set.id().toString());
          }
          c = TreeCollector.collect(node, members, null);
          for (SimProcess p : live) {
            vmas.put(p.pid(), p.memory().vmas());
            session.preDumpDevices(p);
          }
        } finally {
          tree.thaw();
          frozenUs = (System.nanoTime() - frozenAt) / 1000;
        }
        cancellation.check();
        clock.begin("memory");
        DumpStatsEntry.Builder stats = null;
        int firstPagesFile = 1;
        for (SimProcess p : live) {
          DumpStatsEntry.Builder mine = images().write(p, set, options, progress, c.of(p.pid()),
              vmas.get(p.pid()), dirty.get(p.pid()), parentSet, clock, true, firstPagesFile,
              c::storesPages);
          firstPagesFile += mine.getThreads();
          stats = stats == null ? mine : TreeCollector.add(stats, mine);
        }
        c.writeShared(set);
        clock.begin("devices");
        for (SimProcess p : live) {
          session.preDumpDevicesRunning(p);
        }
        SimProcess gone = exited(live);
        if (gone != null) {
          throw AccrException.notFound("pre-dump of %d: process %d exited meanwhile", pid,
              gone.pid());
        }
        clock.end();
        stats.setFrozenTimeUs(frozenUs).setTotalTimeUs(clock.elapsedUs()).setPreDump(true)
            .addAllPhases(clock.phases()).addAllMoved(BytesMoved.dumped(stats, session));
        ProcessImageWriter.writeStats(set, stats);
        cancellation.check();
        clock.begin("sync");
        set.commit(inventory(pid, parentSet, set).setPreDump(true)
            .addAllPlugins(session.used()));
        clock.end();
        session.succeeded();
        ok = true;
        return stats.clearPhases().addAllPhases(clock.phases())
            .setTotalTimeUs(clock.elapsedUs()).build();
      } finally {
        if (!ok) {
          IncrementalPages.putBack(dirty);
        }
      }
    } catch (AccrException e) {
      throw e;
    } catch (IOException e) {
      throw AccrException.failed("pre-dump of %d into %s failed: %s", pid, dir, e.getMessage());
    } catch (RuntimeException e) {
      SimProcess gone = exited(live);
      if (gone != null) {
        // Its memory went away under the writers: nothing of the set is kept.
        throw AccrException.notFound("pre-dump of %d: process %d exited meanwhile", pid,
            gone.pid());
      }
      throw e;
    }
  }

  private static SimProcess exited(List<SimProcess> processes) {
    return processes.stream().filter(p -> p.state() == SimProcess.State.EXITED).findFirst()
        .orElse(null);
  }

  private SessionSetup setup(ImageSetWriter set, ImageSet parentSet, DumpOptions options,
      ProgressListener progress) {
    SessionSetup setup = SessionSetup.of(node, set.directory(), set.id()).withSink(set.sink())
        .withCompression(options.compression()).withParallelism(options.threads())
        .withOptions(options.pluginOptions()).withProgress(progress)
        .withCancelled(cancellation::requested);
    return parentSet == null ? setup : setup.withParent(parentSet.dir(), parentSet.id());
  }

  /**
   * The parent set, every link of its chain verified (where it is, its id, its process, its
   * files), or null for a full dump. A dump that {@code endsProcess} also reads and checks
   * every link's process images, as a restore will: a damaged chain is found while the
   * process still runs, not after it is gone.
   */
  private ImageSet readParent(int pid, ImageSetWriter set, boolean endsProcess)
      throws IOException {
    if (parent == null) {
      return null;
    }
    ImageSet p = destination.parent(parent);
    Path first = parentPaths.apply(parent);
    p = p != null ? p : (endsProcess ? ImageChain.read(first, parentPaths)
        : ImageChain.readLinks(first, parentPaths)).last();
    if (p.inventory().getRootPid() != pid) {
      throw AccrException.failed("dump: the parent %s is a dump of process %d, not of %d",
          p.dir(), p.inventory().getRootPid(), pid);
    }
    ImageChain.relativeName(set.target(), p.dir()); // refuses the image directory itself
    if (node.process(pid).memory().trackingSince() == null) {
      // Nothing says what changed since the parent: storing everything would hide that.
      throw AccrException.failed("dump: process %d does not track its writes, so what changed"
          + " since %s is unknown; start a chain with pre-dump or dump -R, or restore with"
          + " --track-mem", pid, p.dir());
    }
    return p;
  }

  private ProcessImageWriter images() {
    return new ProcessImageWriter(node, served, cancellation);
  }

  private InventoryEntry.Builder inventory(int pid, ImageSet parentSet, ImageSetWriter set) {
    InventoryEntry.Builder inv = InventoryEntry.newBuilder().setToolVersion(Version.get())
        .setRootPid(pid).setSourceTopology(node.topology()).setSourceNode(node.name())
        .setDumpTimeEpochMs(System.currentTimeMillis());
    if (parentSet != null) {
      inv.setParentPath(ImageChain.relativeName(set.target(), parentSet.dir()))
          .setParentId(ByteString.copyFrom(parentSet.id().bytes()));
    }
    return inv;
  }
}
