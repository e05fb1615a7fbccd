package dev.accr.kernel;

import dev.accr.api.AccrException;
import dev.accr.api.ProcessView;
import dev.accr.api.ThreadView;
import dev.accr.api.Workload;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A simulated process: threads, an address space, a file table, and the workload it runs.
 * The process runs one step at a time on its own Java thread; the freezer stops it between
 * steps (like the cgroup freezer stops tasks at a safe point). That life, from start to exit,
 * is {@link ProcessLifecycle}'s; this class is the process as its workload and the kernel see
 * it.
 */
public final class SimProcess implements ProcessView, AutoCloseable {
  /** Where a process is in its life. */
  public enum State {
    NEW,
    RUNNING,
    FROZEN,
    /** Left frozen by a dump ({@code --leave-stopped}) until {@link #resume} or a kill. */
    STOPPED,
    EXITED
  }

  private final int pid;
  private final Workload workload;
  private final List<String> argv;
  private final Path cwd;
  private final int stepDelayMs;
  private final List<SimThread> threads = new ArrayList<>();
  private final AddressSpace memory;
  private final FileTable files;
  private final Kernel kernel;
  private final Lineage lineage;
  /** What the current step would wait for; the process sleeps on it after the step. */
  private final StepWaits waits = new StepWaits();
  /** Wakes the process: a signal for it, a child that exited. */
  private final WaitEvent wakeups = new WaitEvent();
  private final ProcessLifecycle life;

  SimProcess(int pid, Workload workload, List<String> argv, Path cwd, int stepDelayMs,
      Kernel kernel, Lineage lineage) {
    this.life = new ProcessLifecycle(this, kernel, waits, wakeups);
    this.pid = pid;
    this.workload = workload;
    this.argv = List.copyOf(argv);
    this.cwd = cwd;
    this.stepDelayMs = stepDelayMs;
    this.kernel = kernel;
    this.lineage = lineage;
    this.memory = new AddressSpace(kernel.memory(), kernel.ids());
    this.files = new FileTable(cwd, this, kernel.drivers(), kernel.ids(), kernel.memory(),
        kernel::filesOf, waits);
    memory.resolveMemfdsWith(files::memfd);
  }

  @Override
  public int pid() {
    return pid;
  }

  public Workload workload() {
    return workload;
  }

  public List<String> argv() {
    return argv;
  }

  public int stepDelayMs() {
    return stepDelayMs;
  }

  public State state() {
    return life.state();
  }

  @Override
  public int threadCount() {
    return threads.size();
  }

  @Override
  public SimThread thread(int index) {
    return threads.get(index);
  }

  @Override
  public ThreadView addThread() {
    return addThread(pid + threads.size());
  }

  /** Adds a thread with a given id (restore). */
  public SimThread addThread(int tid) {
    SimThread thread = new SimThread(tid);
    threads.add(thread);
    return thread;
  }

  public List<SimThread> threads() {
    return List.copyOf(threads);
  }

  @Override
  public AddressSpace memory() {
    return memory;
  }

  @Override
  public FileTable files() {
    return files;
  }

  @Override
  public String workingDirectory() {
    return cwd.toString();
  }

  /** The process's place in its tree: parent, group, session, signals, reaped descendants. */
  public Lineage lineage() {
    return lineage;
  }

  WaitEvent wakeups() {
    return wakeups;
  }

  /** Whether the last step found it had to wait (an empty pipe, a child still running). */
  public boolean blocked() {
    return life.state() != State.EXITED && waits.blocked();
  }

  @Override
  public int ppid() {
    return lineage.ppid();
  }

  @Override
  public int pgid() {
    return lineage.pgid();
  }

  @Override
  public int sid() {
    return lineage.sid();
  }

  @Override
  public int fork() {
    SimProcess child = kernel.fork(this);
    life.forked(child);
    return child.pid();
  }

  /** Copies this process into a fresh child, as fork does (threads, memory, descriptors). */
  void forkInto(SimProcess child) {
    for (SimThread t : threads) {
      SimThread copy = child.addThread(child.pid() + child.threads.size());
      copy.setPc(t.pc());
      for (int i = 0; i < SimThread.GPR_COUNT; i++) {
        copy.setGpr(i, t.gpr(i));
      }
    }
    memory.forkInto(child.memory);
    files.forkInto(child.files);
  }

  @Override
  public int waitChild(int pid) {
    return kernel.tree().waitChild(this, pid, waits);
  }

  @Override
  public void setExitStatus(int status) {
    if (status < 0 || status > 255) {
      throw AccrException.failed("exit: status %d is outside 0..255", status);
    }
    lineage.setStatusOnReturn(status);
  }

  @Override
  public void setpgid(int pid, int pgid) {
    kernel.tree().setpgid(this, pid, pgid);
  }

  @Override
  public int setsid() {
    return kernel.tree().setsid(this);
  }

  @Override
  public void kill(int pid, int signal) {
    kernel.tree().kill(this, pid, signal);
  }

  @Override
  public long pendingSignals() {
    return lineage.pendingSignals();
  }

  @Override
  public boolean takeSignal(int signal) {
    return lineage.take(signal);
  }

  @Override
  public void catchSignal(int signal) {
    if (signal == dev.accr.api.Signals.SIGKILL) {
      throw AccrException.failed("sigaction: SIGKILL cannot be caught");
    }
    lineage.catchSignal(signal);
  }

  /** Starts running steps on a thread of its own. */
  public synchronized void start() {
    life.start();
  }

  /**
   * Whether the process was told to die: a step that waits (on a device, a fence) checks this
   * besides its thread's interrupt, so that no wait outlives a kill.
   */
  public boolean killRequested() {
    return life.killRequested();
  }

  /** Runs one step on the caller's thread (for a process that was never started). */
  public boolean stepInline() {
    return life.stepInline();
  }

  /**
   * Steps a process of a tree that runs inline (never started) as its own thread would: a
   * pending signal that ends it is delivered first, and when its program ends it exits (a
   * zombie for its parent, its tree's digest complete when the whole tree is done). Children it
   * forks stay unstarted for the caller to step ({@link InlineTree}). Returns whether it still
   * runs.
   */
  public boolean stepInlineInTree() {
    return life.stepInlineInTree();
  }

  /** Completes the exit: with the digest of this process and what it reaped, or its failure. */
  void completeExit() {
    life.completeExit();
  }

  void recordFailure(AccrException f) {
    life.recordFailure(f);
  }

  /** A child reaped after this process exited crashed: the tree's exit reports it. */
  void noteChildFailure(SimProcess child) {
    AccrException f = child.life.failure();
    if (f != null) {
      recordFailure(f);
    }
  }

  /** Stops the process between two steps; returns once no step is running. */
  public void freeze() {
    life.freeze();
  }

  /** Lets a frozen process run on exactly as it was (stopped, if it was stopped). */
  public void thaw() {
    life.thaw();
  }

  /** Keeps a frozen process frozen after its dump, until {@link #resume} or a kill. */
  public void stayStopped() {
    life.stayStopped();
  }

  /** Lets a stopped process run on ({@code accr thaw}). */
  public void resume() {
    life.resume();
  }

  /** Kills a frozen (or never started) process: it ends without a digest and frees memory. */
  public void killFrozen() {
    life.killFrozen();
  }

  /**
   * Tells the process to die without waiting: a step under way is interrupted, whatever it
   * waits on, and no further step starts. {@link #kill} then ends it.
   */
  public void requestKill() {
    life.requestKill();
  }

  /** {@link #requestKill()}, telling whoever waits for the process {@code reason}. */
  public void requestKill(String reason) {
    life.requestKill(reason);
  }

  /**
   * Kills the process whatever it is doing, within a bound: a step under way is interrupted
   * and given {@code graceMillis} to end; if it does not, the process ends anyway and its
   * memory and devices are released under it (the step then fails on its next access and its
   * thread ends). A freezer holding the process (a dump) is waited for: dumps end on their own.
   */
  public void kill(long graceMillis) {
    life.kill(graceMillis);
  }

  /**
   * Kills the process because something it cannot run without failed (a page of a lazy
   * restore that cannot be loaded); whoever waits for it is told {@code reason}.
   */
  public void killBecause(String reason) {
    life.killBecause(reason);
  }

  /** A restored process that was a zombie: it holds nothing and its exit is complete. */
  void becomeZombie() {
    life.becomeZombie();
  }

  /** Ends the exit of a process killed from outside, if nothing completed it yet. */
  void failKilled() {
    life.failKilled();
  }

  Path cwd() {
    return cwd;
  }

  /** Completes with the digest when the process exits. */
  public CompletableFuture<String> exitFuture() {
    return life.exitFuture();
  }

  /** Frees a process that never ran (a restore that failed). */
  @Override
  public void close() {
    life.close();
  }
}
