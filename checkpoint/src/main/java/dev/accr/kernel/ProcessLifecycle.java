package dev.accr.kernel;

import dev.accr.api.AccrException;
import dev.accr.kernel.SimProcess.State;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The life of a {@link SimProcess} from start to exit: its step loop on a thread of its own,
 * the freezer that stops it between steps, kills, and the completion of its exit.
 */
final class ProcessLifecycle {
  private final SimProcess process;
  private final Kernel kernel;
  /** What the current step would wait for; the process sleeps on it after the step. */
  private final StepWaits waits;
  /** Wakes the process: a signal for it, a child that exited. */
  private final WaitEvent wakeups;
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

  ProcessLifecycle(SimProcess process, Kernel kernel, StepWaits waits, WaitEvent wakeups) {
    this.process = process;
    this.kernel = kernel;
    this.waits = waits;
    this.wakeups = wakeups;
  }

  State state() {
    return state;
  }

  /** A child forked by the current step: it starts when the step ends. */
  void forked(SimProcess child) {
    synchronized (forked) {
      forked.add(child);
    }
  }

  void start() {
    if (state != State.NEW) {
      throw new IllegalStateException("process " + process.pid() + " already started");
    }
    state = State.RUNNING;
    runner = Thread.ofPlatform().name("pid-" + process.pid()).daemon().start(this::run);
  }

  private void run() {
    Lineage lineage = process.lineage();
    int stepDelayMs = process.stepDelayMs();
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
        boolean more = process.workload().step(process);
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
      if (c.state() == State.NEW && !killed) {
        c.start();
      }
    }
  }

  boolean killRequested() {
    return killed;
  }

  boolean stepInline() {
    if (state != State.NEW) {
      throw new IllegalStateException("process " + process.pid() + " runs on its own thread");
    }
    waits.clear();
    try {
      return process.workload().step(process);
    } finally {
      synchronized (forked) {
        forked.clear(); // children of a process stepped inline are stepped by the caller too
      }
    }
  }

  boolean stepInlineInTree() {
    if (state != State.NEW) {
      throw new IllegalStateException("process " + process.pid()
          + " runs on its own thread or exited");
    }
    int signal = process.lineage().fatalPending();
    if (signal != 0) {
      exitNow(128 + signal);
      return false;
    }
    if (!stepInline()) {
      exitNow(process.lineage().statusOnReturn());
      return false;
    }
    return true;
  }

  private void exitNow(int status) {
    String digest = ProcessDigest.of(process);
    state = State.EXITED;
    release();
    kernel.tree().exited(process, status, digest, null);
  }

  private void crash(RuntimeException e) {
    state = State.EXITED;
    release();
    String reason = killReason;
    kernel.tree().exited(process, 128 + 11, null, reason != null
        ? AccrException.failed("process %d was killed: %s", process.pid(), reason)
        : AccrException.failed("process %d crashed: %s", process.pid(), e.getMessage()));
  }

  void completeExit() {
    AccrException f = failure;
    if (f != null) {
      exit.completeExceptionally(f);
    } else {
      exit.complete(process.lineage().treeDigest());
    }
  }

  AccrException failure() {
    return failure;
  }

  void recordFailure(AccrException f) {
    if (f != null && failure == null) {
      failure = f;
    }
  }

  void freeze() {
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
    return AccrException.notFound("process %d has exited (no such process to dump)",
        process.pid());
  }

  void thaw() {
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

  void stayStopped() {
    stoppedBeforeFreeze = false;
    if (state == State.FROZEN) {
      state = State.STOPPED;
    }
  }

  void resume() {
    if (state != State.STOPPED) {
      throw AccrException.failed("process %d is not stopped (it is %s): only a process a dump"
          + " left stopped can be thawed", process.pid(), state.name().toLowerCase());
    }
    state = State.RUNNING;
    runPermit.release();
  }

  void killFrozen() {
    killed = true;
    end();
    runPermit.release();
  }

  void requestKill(String reason) {
    if (reason != null) {
      killReason = reason; // before the kill: a step it ends reports why
    }
    requestKill();
  }

  void requestKill() {
    killed = true;
    Thread r = runner;
    if (r != null && r != Thread.currentThread()) {
      r.interrupt();
    }
  }

  void kill(long graceMillis) {
    if (state == State.EXITED) {
      return;
    }
    if (state == State.STOPPED) {
      killFrozen(); // nobody else holds it
      return;
    }
    requestKill();
    if (Thread.currentThread() == runner) {
      end(); // its own step kills it (a failure it met): the step fails on and its thread ends
      return;
    }
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

  void killBecause(String reason) {
    killReason = reason;
    if (Thread.currentThread() == runner) {
      return; // the failing step ends the process with the reason (crash)
    }
    kill(1000);
  }

  private void end() {
    state = State.EXITED;
    exit.completeExceptionally(killedFailure());
    release();
  }

  private AccrException killedFailure() {
    String reason = killReason;
    return reason == null
        ? AccrException.failed("process %d was killed", process.pid())
        : AccrException.failed("process %d was killed: %s", process.pid(), reason);
  }

  void becomeZombie() {
    state = State.EXITED;
    release();
    if (process.lineage().ppid() != 0) {
      completeExit();
    }
  }

  void failKilled() {
    exit.completeExceptionally(killedFailure());
  }

  CompletableFuture<String> exitFuture() {
    return exit;
  }

  private void release() {
    if (released.compareAndSet(false, true)) {
      try {
        process.files().close();
      } finally {
        process.memory().close();
      }
    }
  }

  void close() {
    if (state == State.NEW) {
      state = State.EXITED;
      release();
    }
  }
}
