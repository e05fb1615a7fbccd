package dev.accr.kernel;

import dev.accr.api.AccrException;
import dev.accr.api.MemoryView;
import dev.accr.api.DeviceDriver;
import dev.accr.api.NodeContext;
import dev.accr.api.Workload;
import dev.accr.proto.Topology;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutionException;

/**
 * One simulated computer: its topology, its memory accounting, the drivers of its devices, and
 * its process table. Exited processes stay in the table (as zombies holding their digest)
 * until waited for.
 */
public final class Node implements NodeContext, AutoCloseable {
  private static final int FIRST_PID = 1000;
  /** How long a kill lets a step under way end on its own before ending the process under it. */
  static final long KILL_GRACE_MS = 500;

  private final String name;
  private final Topology topology;
  private final Registry registry;
  private final NodeMemory memory = new NodeMemory();
  private final NodeLimits limits;
  private final BufferBudget buffers;
  private final ConcurrentSkipListMap<Integer, SimProcess> processes = new ConcurrentSkipListMap<>();
  private final NodeRoom room;
  private final NodeDrivers drivers;
  private final KernelIds ids = new KernelIds();
  private final ProcessTree tree = new ProcessTree(this, processes);
  private final Kernel kernel = new NodeKernel();
  private int nextPid = FIRST_PID;

  /**
   * A node with the given topology, whose device types and workloads come from
   * {@code registry}; a driver is attached for each device type in the topology.
   *
   * @throws AccrException with exit code 4 if a device type has no driver installed
   */
  public Node(String name, Topology topology, Registry registry) {
    this(name, topology, registry, NodeLimits.defaults());
  }

  /** A node with the given topology and {@code limits}; see {@link #Node(String, Topology, Registry)}. */
  public Node(String name, Topology topology, Registry registry, NodeLimits limits) {
    this.name = name;
    this.topology = topology;
    this.registry = registry;
    this.limits = limits;
    this.buffers = new BufferBudget(limits.bufferBytes());
    this.room = new NodeRoom(name, topology, limits, memory);
    this.drivers = new NodeDrivers(this, topology, registry);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Topology topology() {
    return topology;
  }

  /** What is installed on this node: device types, workloads, plugins. */
  public Registry registry() {
    return registry;
  }

  @Override
  public <T extends DeviceDriver> T driver(String type, Class<T> driverClass) {
    return drivers.driver(type, driverClass);
  }

  public NodeMemory memory() {
    return memory;
  }

  /**
   * Frames for the pages of a process that is not here yet (a migration's rounds loaded ahead
   * of its stop), counted in this node's memory until a restored process adopts them ({@link
   * AddressSpace#adoptStaged}) or they are closed.
   */
  public StagedPages stagePages() {
    return new StagedPages(memory);
  }

  /** The one bound on bulk-I/O buffers that all dumps and restores on this node share. */
  public BufferBudget buffers() {
    return buffers;
  }

  public NodeLimits limits() {
    return limits;
  }

  /** The host memory the node's processes may hold in all: the limit, or the topology's. */
  public long memoryLimit() {
    return room.memoryLimit();
  }

  /**
   * Refuses (exit code 1) a process that would exceed the node's process count or, needing
   * {@code bytes} of host memory, its memory limit; {@code except} is not counted (the process
   * being checked, or null). Other processes count with the memory they hold, not what they
   * map, so a huge sparse mapping costs what it touched (as Linux overcommits); a process that
   * starts counts with all it maps, a restored one with the pages restored.
   */
  public synchronized void checkRoom(String what, long bytes, SimProcess except) {
    room.check(processes.values(), what, bytes, except);
  }

  /** Starts a new process running {@code workload}. */
  public SimProcess spawn(String workload, List<String> args, Path cwd, int stepDelayMs) {
    SimProcess p = create(workload, args, cwd, stepDelayMs);
    p.start();
    return p;
  }

  /**
   * Creates and sets up a process without starting it: the caller steps it with
   * {@link SimProcess#stepInline()} or hands it to {@link #adopt}.
   */
  public SimProcess create(String workload, List<String> args, Path cwd, int stepDelayMs) {
    Workload w = registry.workload(workload);
    SimProcess p;
    synchronized (this) {
      checkRoom("run of " + workload, 0, null);
      int pid = allocatePid();
      p = newProcess(pid, w, args, cwd, stepDelayMs);
      processes.put(pid, p);
    }
    try {
      p.addThread(p.pid());
      w.exec(p, args);
      checkRoom("run of " + workload, p.memory().mappedHostBytes(), p);
      return p;
    } catch (RuntimeException e) {
      processes.remove(p.pid(), p);
      p.close();
      throw e;
    }
  }

  /** A detached process with a given pid, not in the table yet (restore builds one). */
  public SimProcess newProcess(int pid, Workload w, List<String> argv, Path cwd, int stepDelayMs) {
    return new SimProcess(pid, w, argv, cwd, stepDelayMs, kernel, new Lineage(0, pid, pid));
  }

  ProcessTree tree() {
    return tree;
  }

  /** Creates this node's shared kernel objects outside programs (restore). */
  public KernelObjects kernelObjects() {
    return new KernelObjects(ids, memory);
  }

  /**
   * Puts restored processes into the table under their own pids, all or none, links each to
   * its parent, turns those whose lineage says they had exited into zombies, and starts the
   * others together when {@code start}.
   *
   * @throws AccrException (exit code 1) if a pid is taken; nothing is adopted then
   */
  public void adoptTree(List<SimProcess> tree, boolean start) {
    synchronized (this) {
      for (SimProcess p : tree) {
        if (processes.containsKey(p.pid())) {
          throw AccrException.failed("pid %d is already taken on node %s", p.pid(), name);
        }
      }
      for (SimProcess p : tree) {
        processes.put(p.pid(), p);
      }
      for (SimProcess p : tree) {
        SimProcess parent = processes.get(p.lineage().ppid());
        if (parent != null) {
          parent.lineage().addChild(p.pid());
        }
      }
    }
    for (SimProcess p : tree) {
      if (p.lineage().exited()) {
        p.becomeZombie();
      }
    }
    if (start) {
      for (SimProcess p : tree) {
        if (!p.lineage().exited()) {
          p.start();
        }
      }
    }
  }

  private SimProcess fork(SimProcess parent) {
    if (parent.killRequested() || parent.state() == SimProcess.State.EXITED) {
      throw AccrException.failed("fork: process %d is being killed", parent.pid());
    }
    SimProcess child;
    synchronized (this) {
      checkRoom("fork of " + parent.pid(), parent.memory().privatePages() * MemoryView.PAGE_SIZE,
          null);
      int pid = allocatePid();
      child = new SimProcess(pid, parent.workload(), parent.argv(), parent.cwd(),
          parent.stepDelayMs(), kernel, parent.lineage().forChild(parent.pid()));
      processes.put(pid, child);
      tree.adoptChild(parent, child);
    }
    try {
      parent.forkInto(child);
      return child;
    } catch (RuntimeException e) {
      synchronized (this) {
        processes.remove(child.pid(), child);
        parent.lineage().removeChild(child.pid());
      }
      child.close();
      throw e;
    }
  }

  /** The kernel services a node gives its processes. */
  private final class NodeKernel implements Kernel {
    @Override
    public NodeMemory memory() {
      return memory;
    }

    @Override
    public KernelIds ids() {
      return ids;
    }

    @Override
    public java.util.function.Function<String, DeviceDriver> drivers() {
      return drivers::driverFor;
    }

    @Override
    public ProcessTree tree() {
      return tree;
    }

    @Override
    public FileTable filesOf(int pid) {
      SimProcess p = processes.get(pid);
      if (p == null || p.state() == SimProcess.State.EXITED) {
        throw AccrException.notFound("pidfd_getfd: no process %d on node %s", pid, name);
      }
      return p.files();
    }

    @Override
    public SimProcess fork(SimProcess parent) {
      return Node.this.fork(parent);
    }
  }

  /** Puts a restored process into the table under its own pid and lets it run. */
  public void adopt(SimProcess p, boolean start) {
    synchronized (this) { // the same lock as pid allocation in create()
      if (processes.putIfAbsent(p.pid(), p) != null) {
        throw AccrException.failed("pid %d is already taken on node %s", p.pid(), name);
      }
    }
    if (start) {
      p.start();
    }
  }

  private int allocatePid() {
    while (processes.containsKey(nextPid)) {
      nextPid++;
    }
    return nextPid++;
  }

  public boolean hasPid(int pid) {
    return processes.containsKey(pid);
  }

  /** The process with {@code pid}, exited or not. */
  public SimProcess process(int pid) {
    SimProcess p = processes.get(pid);
    if (p == null) {
      throw AccrException.notFound("no process %d on node %s", pid, name);
    }
    return p;
  }

  public List<SimProcess> processes() {
    return new ArrayList<>(processes.values());
  }

  /** Waits for a process (its whole tree) to exit, removes it, and returns its digest. */
  public String waitFor(int pid) {
    String digest = awaitExit(pid);
    reapWaited(pid);
    return digest;
  }

  /**
   * Waits for a process to exit and returns its digest, leaving it in the table as a zombie
   * (the node daemon reaps it once the digest has reached the client). For the root of a tree
   * that is once every process of the tree has exited, and the digest covers them all; for
   * another process, once it has exited (its parent reaps it).
   */
  public String awaitExit(int pid) {
    SimProcess p = process(pid);
    try {
      return p.exitFuture().get();
    } catch (ExecutionException | CompletionException e) {
      reapWaited(pid); // killed or crashed: there is nothing more to wait for
      throw e.getCause() instanceof AccrException a ? a : AccrException.failed("%s", e.getCause());
    } catch (InterruptedException | CancellationException e) {
      throw AccrException.failed("wait for %d interrupted", pid);
    }
  }

  /**
   * Kills a process, whatever its current step waits on, and removes it from the table; its
   * memory and device state are released. Returns within about {@link #KILL_GRACE_MS} unless a
   * dump holds the process frozen.
   */
  public void kill(int pid) {
    kill(pid, null);
  }

  /**
   * {@link #kill(int)}, telling whoever waits for a process of the subtree {@code reason} (if
   * not null): something they cannot run without failed. A root killed so stays in the table
   * until it is waited for. A process of the subtree may call it from its own step (it ends at
   * once); one that already exited or crashed is reaped with the rest, so the root's exit
   * always completes.
   */
  public void kill(int pid, String reason) {
    SimProcess p = process(pid);
    List<SimProcess> subtree = tree.subtree(p);
    for (SimProcess q : subtree) {
      q.requestKill(reason); // all at once: their steps end together, not one grace period each
    }
    for (SimProcess q : subtree.reversed()) {
      q.kill(KILL_GRACE_MS);
    }
    // Killed for a reason, a root stays (a zombie) until `accr wait` has said why.
    tree.killed(p, subtree, reason != null);
  }

  /**
   * Thaws a process a dump left stopped, with every stopped process of its subtree (a tree
   * dump stops them all): they run on together.
   */
  public void resumeTree(int pid) {
    SimProcess p = process(pid);
    p.resume(); // the root must be stopped: one line otherwise
    for (SimProcess q : tree.subtree(p)) {
      if (q != p && q.state() == SimProcess.State.STOPPED) {
        q.resume();
      }
    }
  }

  /** Removes a process that exited or that a dump killed. */
  public void reap(SimProcess p) {
    processes.remove(p.pid(), p);
  }

  /**
   * Removes a process whose exit a client has waited for, if it is the root of its tree; a
   * child stays a zombie for its parent to reap.
   */
  public void reapWaited(int pid) {
    SimProcess p = processes.get(pid);
    if (p != null && p.lineage().ppid() == 0) {
      processes.remove(pid, p);
    }
  }

  @Override
  public void close() {
    List<SimProcess> all = processes();
    for (SimProcess p : all) {
      p.requestKill(); // all at once: their steps end together, not one grace period each
    }
    for (SimProcess p : all) {
      if (processes.containsKey(p.pid())) {
        kill(p.pid()); // a tree goes with its root
      }
    }
    drivers.close();
  }
}
