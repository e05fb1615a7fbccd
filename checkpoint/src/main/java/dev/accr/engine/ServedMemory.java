package dev.accr.engine;

import dev.accr.api.AccrException;
import dev.accr.api.DeviceMemoryServer;
import dev.accr.api.MemoryView;
import dev.accr.kernel.SimProcess;
import dev.accr.kernel.Vma;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * The memory a post-copy dump leaves with the stopped process (see {@link
 * Dumper#servingMemory}): its host pages, in units of at most {@link #UNIT_PAGES} touched pages
 * read straight from its page table, and each plugin's device memory, read through the plugin
 * ({@link DeviceMemoryServer}). Served until the target has it all; the process must stay
 * stopped meanwhile, so that what is served is what was dumped. A tree's memory is that of
 * each of its processes: host units of one process each ({@link #pidOf}), and each plugin's
 * servers of every process served as one.
 */
public final class ServedMemory implements AutoCloseable {
  /** Pages of one unit of host memory, as a stored chunk of a dump (1 MiB). */
  static final int UNIT_PAGES = DumpOptions.DEFAULT_CHUNK_PAGES;
  /** Bytes of the largest host unit. */
  public static final int UNIT_BYTES = UNIT_PAGES * MemoryView.PAGE_SIZE;
  private static final int PAGE = MemoryView.PAGE_SIZE;
  /** A mapping with at most this many touched pages is small: its pages are eager. */
  static final int EAGER_VMA_PAGES = 64;
  /**
   * At most this many pages of a process's small mappings are eager, so that the downtime
   * does not grow with them.
   */
  static final int EAGER_PAGES = 1024;

  /** Why a unit's pages are read before the process runs, if they are. */
  private enum Kind {
    /** Pages of small mappings: read by the restore's checks. */
    SMALL,
    /** Pages of shared mappings: loaded before a tree runs (a lone process loads them lazily). */
    SHARED,
    /** The rest: loaded on first touch or pushed. */
    LAZY
  }

  private SimProcess process;
  private final List<List<PageSource.Run>> hostUnits = new ArrayList<>();
  /** The process each host unit is of. */
  private final List<SimProcess> owners = new ArrayList<>();
  private final List<Kind> kinds = new ArrayList<>();
  /** How many processes' pages are served: more than one is a tree. */
  private int processes;
  private final Map<String, DeviceMemoryServer> devices = new TreeMap<>();
  private String beforeCommitPhase;
  private Runnable beforeCommit;

  /**
   * Has the dump run {@code action}, timed as its phase {@code phase}, once this memory is
   * known whole and before the dump commits its set: a post-copy source sends the index then,
   * so that the target plans the restore while the set is committed.
   */
  public void beforeCommit(String phase, Runnable action) {
    this.beforeCommitPhase = phase;
    this.beforeCommit = action;
  }

  /** The dump has recorded every page and server: runs what {@link #beforeCommit} asked. */
  void complete(PhaseClock clock) {
    if (beforeCommit != null) {
      clock.begin(beforeCommitPhase);
      beforeCommit.run();
      clock.end();
    }
  }

  /**
   * Records the touched pages of the stopped {@code p}'s mappings that {@code stored} takes:
   * first those of its small mappings, then those of its shared mappings, then the others (see
   * {@link #eagerUnits}). A tree's processes come root first.
   */
  void host(SimProcess p, List<Vma> vmas, Predicate<Vma> stored) {
    if (process == null) {
      this.process = p;
    }
    processes++;
    List<Vma> small = new ArrayList<>();
    List<Vma> shared = new ArrayList<>();
    List<Vma> large = new ArrayList<>();
    long eagerPages = 0;
    for (Vma vma : vmas) {
      if (vma.kind() == Vma.Kind.DEVICE || !stored.test(vma)) {
        continue;
      }
      long touched = vma.touchedPages();
      if (touched <= EAGER_VMA_PAGES && eagerPages + touched <= EAGER_PAGES) {
        small.add(vma);
        eagerPages += touched;
      } else if (vma.shared() != null) {
        shared.add(vma);
      } else {
        large.add(vma);
      }
    }
    addUnits(p, small, Kind.SMALL);
    addUnits(p, shared, Kind.SHARED);
    addUnits(p, large, Kind.LAZY);
  }

  /** Adds units of the touched pages of {@code vmas}, a unit filled across mappings. */
  private void addUnits(SimProcess p, List<Vma> vmas, Kind kind) {
    List<PageSource.Run> unit = new ArrayList<>();
    int inUnit = 0;
    for (Vma vma : vmas) {
      long i = vma.nextTouchedPage(0);
      while (i >= 0) {
        long start = i;
        long end = i + 1;
        while (end < vma.pageCount() && inUnit + (end - start) < UNIT_PAGES
            && vma.frame(end) != null) {
          end++;
        }
        unit.add(new PageSource.Run(vma.start() + start * PAGE, (int) (end - start)));
        inUnit += (int) (end - start);
        if (inUnit == UNIT_PAGES) {
          hostUnits.add(unit);
          unit = new ArrayList<>();
          inUnit = 0;
        }
        i = end < vma.pageCount() ? vma.nextTouchedPage(end) : -1;
      }
    }
    if (!unit.isEmpty()) {
      hostUnits.add(unit);
    }
    while (owners.size() < hostUnits.size()) {
      owners.add(p);
      kinds.add(kind);
    }
  }

  /**
   * The host units a restore reads before the process runs, in ascending order: every
   * process's small mappings (a program's control page, its queues' rings: its checks read
   * them) and, for a tree, the units of shared mappings (loaded before the tree runs, as
   * another process may touch them first). They go to the target with the index, unasked, as
   * CRIU dumps the pages it cannot load lazily (a thread's stack) with the images.
   */
  public List<Integer> eagerUnits() {
    boolean tree = processes > 1;
    List<Integer> eager = new ArrayList<>();
    for (int u = 0; u < kinds.size(); u++) {
      if (kinds.get(u) == Kind.SMALL || (tree && kinds.get(u) == Kind.SHARED)) {
        eager.add(u);
      }
    }
    return eager;
  }

  void devices(Map<String, DeviceMemoryServer> servers) {
    servers.forEach((plugin, s) -> devices.merge(plugin, s, MergedDeviceServer::of));
  }

  /** The pid of the process whose memory this is. */
  public int pid() {
    return process.pid();
  }

  /** The pid of the process whose pages unit {@code u} holds. */
  public int pidOf(int u) {
    return owners.get(u).pid();
  }

  /** The units of host pages, each a list of runs. */
  public List<List<PageSource.Run>> hostUnits() {
    return hostUnits;
  }

  /** Pages of unit {@code u}. */
  public int pagesOf(int u) {
    return hostUnits.get(u).stream().mapToInt(PageSource.Run::pages).sum();
  }

  /** Copies the pages of unit {@code u}, run after run, into {@code into}. */
  public void readHost(int u, MemorySegment into) {
    SimProcess process = owners.get(u);
    if (process.state() == SimProcess.State.EXITED) {
      throw AccrException.failed("process %d ended on this node: its pages are gone",
          process.pid());
    }
    long at = 0;
    for (PageSource.Run r : hostUnits.get(u)) {
      Vma vma = process.memory().find(r.vaddr());
      long first = (r.vaddr() - vma.start()) / PAGE;
      for (int i = 0; i < r.pages(); i++) {
        MemorySegment frame = vma.frame(first + i);
        if (frame == null) {
          into.asSlice(at, PAGE).fill((byte) 0);
        } else {
          MemorySegment.copy(frame, 0, into, at, PAGE);
        }
        at += PAGE;
      }
    }
  }

  /** Each plugin's server of device memory, by plugin name. */
  public Map<String, DeviceMemoryServer> devices() {
    return devices;
  }

  @Override
  public void close() {
    devices.values().forEach(DeviceMemoryServer::close);
  }
}
