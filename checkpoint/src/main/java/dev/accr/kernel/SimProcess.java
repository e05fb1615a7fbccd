package dev.accr.kernel;

import dev.accr.api.AccrException;
import dev.accr.api.ProcessView;
import dev.accr.api.ThreadView;
import dev.accr.api.Workload;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A simulated process: threads, an address space, a file table, and the workload it runs.
 * The process runs one step at a time on its own Java thread; the freezer stops it between
 * steps (like the cgroup freezer stops tasks at a safe point).
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
  /** Children forked by the current step: they start when it ends. */
  private final List<SimProcess> forked = new ArrayList<>();
  private volatile AccrException failure;
  // One permit: the running step holds it; the freezer takes it to stop the process.
  private final Semaphore runPermit = new Semaphore(1, true);
  private final CompletableFuture<String> exit = new CompletableFuture<>();
  private final AtomicBoolean released = new AtomicBoolean();
  private volatile State state = State.NEW;
  private volatile boolean killed;
  private volatile String killReason;
  // A dump froze a process that was already stopped: thawing it leaves it stopped.
  private volatile boolean stoppedBeforeFreeze;
  private volatile Thread runner;

  SimProcess(int pid, Workload workload, List<String> argv, Path cwd, int stepDelayMs,
      Kernel kernel, Lineage lineage) {
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
    return state;
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
    return state != State.EXITED && waits.blocked();
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
    synchronized (forked) {
      forked.add(child);
    }
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
    if (state != State.NEW) {
      throw new IllegalStateException("process " + pid + " already started");
    }
    state = State.RUNNING;
    runner = Thread.ofPlatform().name("pid-" + pid).daemon().start(this::run);
  }

  private void run() {
    while (true) {
      runPermit.acquireUninterruptibly();
      long woken = wakeups.version();
      try {
        if (killed) {
          return;
        }
        int signal = lineage.fatalPending();
        if (signal != 0) {
          exitNow(128 + signal);
          return;
        }
        waits.clear();
        boolean more = workload.step(this);
        if (!more) {
          startForked();
          exitNow(lineage.statusOnReturn());
          return;
        }
      } catch (RuntimeException e) {
        if (!killed) {
          crash(e); // a step ended by a kill is not a crash: the kill has ended the process
        }
        return;
      } finally {
        startForked(); // before a freezer can take the process: a frozen tree is whole
        runPermit.release();
      }
      if (stepDelayMs > 0) {
        try {
          Thread.sleep(stepDelayMs);
        } catch (InterruptedException e) {
          return;
        }
      }
      if (waits.blocked()) {
        waits.note(wakeups, woken);
        waits.sleep();
      }
    }
  }

  private void startForked() {
    List<SimProcess> children;
    synchronized (forked) {
      children = List.copyOf(forked);
      forked.clear();
    }
    for (SimProcess c : children) {
      if (c.state == State.NEW && !killed) {
        c.start();
      }
    }
  }

  /**
   * Whether the process was told to die: a step that waits (on a device, a fence) checks this
   * besides its thread's interrupt, so that no wait outlives a kill.
   */
  public boolean killRequested() {
    return killed;
  }

  /** Runs one step on the caller's thread (for a process that was never started). */
  public boolean stepInline() {
    if (state != State.NEW) {
      throw new IllegalStateException("process " + pid + " runs on its own thread");
    }
    waits.clear();
    try {
      return workload.step(this);
    } finally {
      synchronized (forked) {
        forked.clear(); // children of a process stepped inline are stepped by the caller too
      }
    }
  }

  /**
   * Steps a process of a tree that runs inline (never started) as its own thread would: a
   * pending signal that ends it is delivered first, and when its program ends it exits (a
   * zombie for its parent, its tree's digest complete when the whole tree is done). Children it
   * forks stay unstarted for the caller to step ({@link InlineTree}). Returns whether it still
   * runs.
   */
  public boolean stepInlineInTree() {
    if (state != State.NEW) {
      throw new IllegalStateException("process " + pid + " runs on its own thread or exited");
    }
    int signal = lineage.fatalPending();
    if (signal != 0) {
      exitNow(128 + signal);
      return false;
    }
    if (!stepInline()) {
      exitNow(lineage.statusOnReturn());
      return false;
    }
    return true;
  }

  private void exitNow(int status) {
    String digest = ProcessDigest.of(this);
    state = State.EXITED;
    release();
    kernel.tree().exited(this, status, digest, null);
  }

  private void crash(RuntimeException e) {
    state = State.EXITED;
    release();
    String reason = killReason;
    kernel.tree().exited(this, 128 + 11, null, reason != null
        ? AccrException.failed("process %d was killed: %s", pid, reason)
        : AccrException.failed("process %d crashed: %s", pid, e.getMessage()));
  }

  /** Completes the exit: with the digest of this process and what it reaped, or its failure. */
  void completeExit() {
    AccrException f = failure;
    if (f != null) {
      exit.completeExceptionally(f);
    } else {
      exit.complete(lineage.treeDigest());
    }
  }

  void recordFailure(AccrException f) {
    if (f != null && failure == null) {
      failure = f;
    }
  }

  /** A child reaped after this process exited crashed: the tree's exit reports it. */
  void noteChildFailure(SimProcess child) {
    AccrException f = child.failure;
    if (f != null) {
      recordFailure(f);
    }
  }

  /** Stops the process between two steps; returns once no step is running. */
  public void freeze() {
    if (state == State.EXITED) {
      throw exited();
    }
    if (state == State.STOPPED) {
      stoppedBeforeFreeze = true; // it already holds the permit
      state = State.FROZEN;
      return;
    }
    runPermit.acquireUninterruptibly();
    if (state == State.EXITED) {
      runPermit.release();
      throw exited();
    }
    if (state == State.RUNNING) {
      state = State.FROZEN;
    }
  }

  private AccrException exited() {
    return AccrException.notFound("process %d has exited (no such process to dump)", pid);
  }

  /** Lets a frozen process run on exactly as it was (stopped, if it was stopped). */
  public void thaw() {
    if (stoppedBeforeFreeze) {
      stoppedBeforeFreeze = false;
      state = State.STOPPED;
      return;
    }
    if (state == State.FROZEN) {
      state = State.RUNNING;
    }
    runPermit.release();
  }

  /** Keeps a frozen process frozen after its dump, until {@link #resume} or a kill. */
  public void stayStopped() {
    stoppedBeforeFreeze = false;
    if (state == State.FROZEN) {
      state = State.STOPPED;
    }
  }

  /** Lets a stopped process run on ({@code accr thaw}). */
  public void resume() {
    if (state != State.STOPPED) {
      throw AccrException.failed("process %d is not stopped (it is %s): only a process a dump"
          + " left stopped can be thawed", pid, state.name().toLowerCase());
    }
    state = State.RUNNING;
    runPermit.release();
  }

  /** Kills a frozen (or never started) process: it ends without a digest and frees memory. */
  public void killFrozen() {
    killed = true;
    end();
    runPermit.release();
  }

  /**
   * Tells the process to die without waiting: a step under way is interrupted, whatever it
   * waits on, and no further step starts. {@link #kill} then ends it.
   */
  public void requestKill() {
    killed = true;
    Thread r = runner;
    if (r != null && r != Thread.currentThread()) {
      r.interrupt();
    }
  }

  /**
   * Kills the process whatever it is doing, within a bound: a step under way is interrupted
   * and given {@code graceMillis} to end; if it does not, the process ends anyway and its
   * memory and devices are released under it (the step then fails on its next access and its
   * thread ends). A freezer holding the process (a dump) is waited for: dumps end on their own.
   */
  public void kill(long graceMillis) {
    if (state == State.EXITED) {
      return;
    }
    if (state == State.STOPPED) {
      killFrozen(); // nobody else holds it
      return;
    }
    requestKill();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(graceMillis);
    boolean held = false;
    try {
      while (!held) {
        long left = deadline - System.nanoTime();
        held = runPermit.tryAcquire(Math.max(left, TimeUnit.MILLISECONDS.toNanos(10)),
            TimeUnit.NANOSECONDS);
        if (!held && state != State.FROZEN && System.nanoTime() - deadline >= 0) {
          break; // a step that ignores its interrupt: end the process under it
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    end();
    if (held) {
      runPermit.release();
    }
  }

  /**
   * Kills the process because something it cannot run without failed (a page of a lazy
   * restore that cannot be loaded); whoever waits for it is told {@code reason}.
   */
  public void killBecause(String reason) {
    killReason = reason;
    if (Thread.currentThread() == runner) {
      return; // the failing step ends the process with the reason (crash)
    }
    kill(1000);
  }

  private void end() {
    state = State.EXITED;
    String reason = killReason;
    exit.completeExceptionally(reason == null ? AccrException.failed("process %d was killed", pid)
        : AccrException.failed("process %d was killed: %s", pid, reason));
    release();
  }

  /** A restored process that was a zombie: it holds nothing and its exit is complete. */
  void becomeZombie() {
    state = State.EXITED;
    release();
    if (lineage.ppid() != 0) {
      completeExit();
    }
  }

  /** Ends the exit of a process killed from outside, if nothing completed it yet. */
  void failKilled() {
    exit.completeExceptionally(AccrException.failed("process %d was killed", pid));
  }

  Path cwd() {
    return cwd;
  }

  /** Completes with the digest when the process exits. */
  public CompletableFuture<String> exitFuture() {
    return exit;
  }

  private void release() {
    if (released.compareAndSet(false, true)) {
      try {
        files.close();
      } finally {
        memory.close();
      }
    }
  }

  /** Frees a process that never ran (a restore that failed). */
  @Override
  public void close() {
    if (state == State.NEW) {
      state = State.EXITED;
      release();
    }
  }
}
