package dev.accr.kernel;

import dev.accr.api.AccrException;
import dev.accr.api.DeviceDriver;
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
import java.util.function.Function;

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
      NodeMemory accounting, Function<String, DeviceDriver> drivers) {
    this.pid = pid;
    this.workload = workload;
    this.argv = List.copyOf(argv);
    this.cwd = cwd;
    this.stepDelayMs = stepDelayMs;
    this.memory = new AddressSpace(accounting);
    this.files = new FileTable(cwd, this, drivers);
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
      boolean more;
      try {
        if (killed) {
          return;
        }
        more = workload.step(this);
        if (!more) {
          exitNow();
          return;
        }
      } catch (RuntimeException e) {
        if (!killed) {
          crash(e); // a step ended by a kill is not a crash: the kill has ended the process
        }
        return;
      } finally {
        runPermit.release();
      }
      if (stepDelayMs > 0) {
        try {
          Thread.sleep(stepDelayMs);
        } catch (InterruptedException e) {
          return;
        }
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
    return workload.step(this);
  }

  private void exitNow() {
    String digest = ProcessDigest.of(this);
    state = State.EXITED;
    release();
    exit.complete(digest);
  }

  private void crash(RuntimeException e) {
    state = State.EXITED;
    release();
    String reason = killReason;
    exit.completeExceptionally(reason != null
        ? AccrException.failed("process %d was killed: %s", pid, reason)
        : AccrException.failed("process %d crashed: %s", pid, e.getMessage()));
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
