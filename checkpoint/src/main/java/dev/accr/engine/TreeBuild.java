package dev.accr.engine;

import dev.accr.api.AccrException;
import dev.accr.api.CorruptImageException;
import dev.accr.api.DeviceMapping;
import dev.accr.api.Workload;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.kernel.SimThread;
import dev.accr.kernel.Vma;
import dev.accr.plugin.PluginSession;
import dev.accr.proto.CoreEntry;
import dev.accr.proto.FdEntry;
import dev.accr.proto.FileEntry;
import dev.accr.proto.RegFileEntry;
import dev.accr.proto.ThreadCoreEntry;
import dev.accr.proto.VmaEntry;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
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

  TreeBuild(Node node, RestorePlan plan) {
    this.node = node;
    this.plan = plan;
  }

  /** Creates every process, detached, under its own pid. */
  void create() {
    for (RestorePlan.ProcessPlan pp : plan.processes()) {
      CoreEntry core = pp.images().core();
      String cwd = core.getCwd().isEmpty() ? System.getProperty("user.dir") : core.getCwd();
      SimProcess p = node.newProcess(core.getPid(), pp.workload(), core.getArgvList(),
          Path.of(cwd), core.getStepDelayMs());
      built.put(p.pid(), p);
      plan.session().postForking(p);
    }
  }

  void mapMemory() {
    for (RestorePlan.ProcessPlan pp : plan.processes()) {
      SimProcess p = built.get(pp.pid());
      for (VmaEntry v : pp.images().mm().getVmasList()) {
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
  }

  /** Where the pages of chain link {@code link} go: each process gets those of its own. */
  PageLoader.PageSink pageSink(int link) {
    Map<Integer, PageLoader.PageSink> sinks = new LinkedHashMap<>();
    for (RestorePlan.ProcessPlan pp : plan.processes()) {
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
    return new PageLoader.PageSink() {
      @Override
      public void write(int pid, long vaddr, MemorySegment source, long offset, int pages) {
        sinks.get(pid).write(pid, vaddr, source, offset, pages);
      }

      @Override
      public MemorySegment fresh(int pid, long vaddr, int pages) {
        return sinks.get(pid).fresh(pid, vaddr, pages);
      }
    };
  }

  void trackWrites(String since) {
    built.values().forEach(p -> p.memory().trackWrites(since));
  }

  /** Threads with their registers, open files and device files, then the program's check. */
  void threadsAndFiles() {
    for (RestorePlan.ProcessPlan pp : plan.processes()) {
      SimProcess p = built.get(pp.pid());
      addThreads(pp.images().core(), p);
      openFiles(pp.images().core(), p);
      checkRestored(pp.workload(), p);
    }
  }

  /** Puts every process into the node's table under its pid. */
  void adopt() {
    for (SimProcess p : built.values()) {
      node.adopt(p, false);
      adopted.add(p);
    }
  }

  void resumeDevices() {
    built.values().forEach(p -> plan.session().resumeDevicesLate(p));
  }

  /** Starts every process, one right after the other: the tree thaws together. */
  void start() {
    built.values().forEach(SimProcess::start);
  }

  SimProcess root() {
    return built.get(plan.pid());
  }

  List<SimProcess> processes() {
    return List.copyOf(built.values());
  }

  long residentPages() {
    return built.values().stream().mapToLong(p -> p.memory().residentPages()).sum();
  }

  /** Removes every process built so far and frees what it holds. */
  void discard() {
    for (SimProcess p : adopted) {
      try {
        node.kill(p.pid());
      } catch (RuntimeException e) {
        // already gone
      }
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

  private void openFiles(CoreEntry core, SimProcess p) {
    for (FdEntry fd : core.getFdsList()) {
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
}
