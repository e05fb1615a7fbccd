package dev.accr.engine;

import dev.accr.api.AccrException;
import dev.accr.api.CorruptImageException;
import dev.accr.api.DeviceMapping;
import dev.accr.api.Workload;
import dev.accr.kernel.FileDescription;
import dev.accr.kernel.KernelObjects;
import dev.accr.kernel.Lineage;
import dev.accr.kernel.Node;
import dev.accr.kernel.Pipe;
import dev.accr.kernel.SharedMemory;
import dev.accr.kernel.TreeDigest;
import dev.accr.kernel.SimProcess;
import dev.accr.kernel.SimThread;
import dev.accr.kernel.Vma;
import dev.accr.plugin.PluginSession;
import dev.accr.proto.CoreEntry;
import dev.accr.proto.FdEntry;
import dev.accr.proto.FileEntry;
import dev.accr.proto.PipeEntry;
import dev.accr.proto.PstreeEntry;
import dev.accr.proto.ShmemEntry;
import dev.accr.proto.RegFileEntry;
import dev.accr.proto.ThreadCoreEntry;
import dev.accr.proto.VmaEntry;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The processes of a tree being restored: built detached from the node (memory, pages,
 * threads, files, device state), then put into the process table together and started
 * together. {@link #discard} removes whatever was built, adopted or not, so that a restore
 * failing at any point leaves no process of the tree and no memory held.
 */
final class TreeBuild {
  private final Node node;
  private final RestorePlan plan;
  private final Map<Integer, SimProcess> built = new LinkedHashMap<>();
  private final List<SimProcess> adopted = new ArrayList<>();
  /** Shared memory by its id in the set, held once by this build until every holder has it. */
  private final Map<Integer, SharedMemory> shmem = new LinkedHashMap<>();
  private final Map<Integer, Pipe> pipes = new HashMap<>();
  private final Map<Integer, FileDescription> descriptions = new HashMap<>();
  private final java.util.Set<Integer> zombies = new java.util.HashSet<>();
  private final KernelObjects objects;

  TreeBuild(Node node, RestorePlan plan) {
    this.node = node;
    this.plan = plan;
    this.objects = node.kernelObjects();
  }

  /**
   * Creates every process, detached, under its own pid, with its parent, group, session,
   * signals and account of reaped descendants; a zombie is created exited. The root becomes
   * the root of a tree on this node (parent 0), whatever its parent was where it was dumped.
   */
  void create() {
    for (RestorePlan.ProcessPlan pp : plan.processes()) {
      CoreEntry core = pp.images().core();
      String cwd = core.getCwd().isEmpty() ? System.getProperty("user.dir") : core.getCwd();
      SimProcess p = node.newProcess(pp.pid(), pp.workload(), core.getArgvList(),
          Path.of(cwd), core.getStepDelayMs());
      built.put(p.pid(), p);
      PstreeEntry e = pp.images().pstree();
      boolean root = pp.pid() == plan.pid();
      long[] sum = new long[TreeDigest.LANES];
      for (int i = 0; i < e.getDescendantSumCount(); i++) {
        sum[i] = e.getDescendantSum(i);
      }
      p.lineage().restore(new Lineage.Restored(root ? 0 : e.getPpid(), e.getPgid(), e.getSid(),
          e.getPendingSignals(), e.getCaughtSignals(), e.getStatusOnReturn(), e.getZombie(),
          e.getExitStatus(), e.getOwnDigest().isEmpty() ? null : e.getOwnDigest(), sum,
          e.getDescendants()));
      if (pp.zombie()) {
        zombies.add(p.pid()); // made one when the node adopts the tree
        continue;
      }
      plan.session().postForking(p);
    }
  }

  void mapMemory() {
    for (ShmemEntry s : plan.set().shared().shmem().values()) {
      shmem.put(s.getId(), objects.sharedMemory(s.getName(), s.getLength()));
    }
    for (RestorePlan.ProcessPlan pp : plan.processes()) {
      SimProcess p = built.get(pp.pid());
      for (VmaEntry v : pp.images().mm().getVmasList()) {
        Vma.Kind kind = ProcessCollector.kindOf(v.getKind());
        if (v.getShmemId() != 0) {
          SharedMemory shm = objects.hold(shmem.get(v.getShmemId())); // the mapping's hold
          try {
            p.memory().mapShared(v.getStart(), v.getProt(), kind, v.getName(), v.getPath(), shm);
          } catch (RuntimeException e) {
            objects.discard(shm);
            throw e;
          }
          continue;
        }
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
  }

  /** Where the pages of chain link {@code link} go: each process gets those of its own. */
  PageLoader.PageSink pageSink(int link) {
    Map<Integer, PageLoader.PageSink> sinks = new LinkedHashMap<>();
    for (RestorePlan.ProcessPlan pp : plan.processes()) {
      if (pp.zombie()) {
        continue;
      }
      SimProcess p = built.get(pp.pid());
      sinks.put(pp.pid(), pp.pages().filter(link, new PageLoader.PageSink() {
        @Override
        public void write(int pid, long vaddr, MemorySegment source, long offset, int pages) {
          p.memory().writePages(vaddr, source, offset, pages);
        }

        @Override
        public MemorySegment fresh(int pid, long vaddr, int pages) {
          return p.memory().freshRun(vaddr, pages);
        }
      }));
    }
    // An older link may hold a process that has exited since (or is a zombie now): its pages
    // go nowhere.
    return new PageLoader.PageSink() {
      @Override
      public void write(int pid, long vaddr, MemorySegment source, long offset, int pages) {
        PageLoader.PageSink sink = sinks.get(pid);
        if (sink != null) {
          sink.write(pid, vaddr, source, offset, pages);
        }
      }

      @Override
      public MemorySegment fresh(int pid, long vaddr, int pages) {
        PageLoader.PageSink sink = sinks.get(pid);
        return sink == null ? null : sink.fresh(pid, vaddr, pages);
      }
    };
  }

  /**
   * Maps each process's pages that {@code stage} holds for the links from {@code link} on,
   * where those links' pages are the process's (no newer link replaces them), without a copy.
   */
  void adoptStaged(StagedChain stage, int link) {
    for (RestorePlan.ProcessPlan pp : plan.processes()) {
      if (!pp.zombie()) {
        stage.adopt(pp.pid(), built.get(pp.pid()).memory(), pp.pages().ownRanges(link));
      }
    }
  }

  void trackWrites(String since) {
    IncrementalPages.track(live(), since);
  }

  /** The processes that run (not the zombies). */
  List<SimProcess> live() {
    return built.values().stream().filter(p -> !zombies.contains(p.pid())).toList();
  }

  /** Threads with their registers, open files and device files, then the program's check. */
  void threadsAndFiles() {
    for (RestorePlan.ProcessPlan pp : plan.processes()) {
      if (pp.zombie()) {
        continue;
      }
      SimProcess p = built.get(pp.pid());
      addThreads(pp.images().core(), p);
      openFiles(pp.images().core(), p);
    }
    releaseShared(); // every mapping and memfd holds its objects now
    for (RestorePlan.ProcessPlan pp : plan.processes()) {
      if (!pp.zombie()) {
        checkRestored(pp.workload(), built.get(pp.pid()));
      }
    }
  }

  private void releaseShared() {
    shmem.values().forEach(objects::discard);
    shmem.clear();
  }

  /** Puts every process into the node's table under its pid, all or none. */
  void adopt() {
    node.adoptTree(List.copyOf(built.values()), false);
    adopted.addAll(built.values());
  }

  void resumeDevices() {
    live().forEach(p -> plan.session().resumeDevicesLate(p));
  }

  /** Starts every process, one right after the other: the tree thaws together. */
  void start() {
    live().forEach(SimProcess::start);
  }

  SimProcess root() {
    return built.get(plan.pid());
  }

  List<SimProcess> processes() {
    return List.copyOf(built.values());
  }

  /** Memory the tree holds: its processes' private pages and each shared object once. */
  long residentPages() {
    java.util.Set<SharedMemory> counted = java.util.Collections.newSetFromMap(
        new java.util.IdentityHashMap<>());
    long shared = 0;
    for (SimProcess p : live()) {
      for (SharedMemory shm : p.memory().sharedObjects()) {
        if (counted.add(shm)) {
          shared += shm.residentPages();
        }
      }
    }
    return shared + live().stream().mapToLong(p -> p.memory().privatePages()).sum();
  }

  /** Removes every process built so far and frees what it holds. */
  void discard() {
    releaseShared();
    if (!adopted.isEmpty()) {
      try {
        node.kill(plan.pid()); // the root takes its whole tree with it
      } catch (RuntimeException e) {
        // already gone
      }
      adopted.forEach(node::reap);
    }
    for (SimProcess p : built.values()) {
      p.close();
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

  /**
   * Opens the process's descriptors. A file entry is opened once, by the first descriptor
   * that names it; every later one (in this process or another) shares that description.
   */
  private void openFiles(CoreEntry core, SimProcess p) {
    for (FdEntry fd : core.getFdsList()) {
      FileDescription shared = descriptions.get(fd.getFileId());
      if (shared != null) {
        p.files().installShared(fd.getFd(), shared);
        continue;
      }
      FileEntry f = plan.set().files().get(fd.getFileId());
      int n = fd.getFd();
      if (f.hasExt()) {
        p.files().installDevice(n, plan.session().restoreExtFile(f.getExt().getPlugin(), p, n,
            f.getExt().getPath()));
      } else if (f.hasPipe()) {
        p.files().installOwned(n, objects.pipeEnd(pipe(f.getPipe().getPipeId()),
            f.getPipe().getReadEnd()));
      } else if (f.hasSocket()) {
        p.files().installOwned(n, objects.socketEnd(pipe(f.getSocket().getInPipeId()),
            pipe(f.getSocket().getOutPipeId())));
      } else if (f.hasMemfd()) {
        p.files().installOwned(n, objects.memfd(shmem.get(f.getMemfd().getShmemId())));
      } else {
        RegFileEntry reg = f.getReg();
        p.files().install(n, Path.of(reg.getPath()), reg.getFlags(), reg.getPos());
      }
      descriptions.put(fd.getFileId(), p.files().descriptions().get(n));
    }
  }

  /** The pipe with id {@code id} in the set, created with its bytes on first use. */
  private Pipe pipe(int id) {
    return pipes.computeIfAbsent(id, k -> {
      PipeEntry e = plan.set().shared().pipes().get(id);
      Pipe pipe = objects.pipe(e.getCapacity()); // checked against the maximum on read
      if (!e.getData().isEmpty()) {
        pipe.fill(e.getData().toByteArray());
      }
      return pipe;
    });
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
}
