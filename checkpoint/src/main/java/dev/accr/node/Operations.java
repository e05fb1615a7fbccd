package dev.accr.node;

import dev.accr.api.AccrException;
import dev.accr.engine.Cancellation;
import java.util.ArrayList;
import java.util.List;

/**
 * The dumps and restores running on a node. A process takes part in one at a time: a second
 * dump of it, or a restore into a pid being restored, is refused at once. Once the node is
 * stopping no new one starts; those running are waited for, or cancelled (each then fails
 * through its own failure path, which leaves the process as it was and no image set behind).
 */
public final class Operations {
  /** What an operation does to its process. */
  public enum Kind {
    DUMP("dumped"), RESTORE("restored");

    private final String participle;

    Kind(String participle) {
      this.participle = participle;
    }
  }

  /** One running operation; closing it ends it. Its cancellation is asked by the engine. */
  public final class Operation implements Cancellation, AutoCloseable {
    private final Kind kind;
    private volatile String description;
    private volatile int pid = -1;
    private volatile boolean cancelled;

    private Operation(Kind kind, String description) {
      this.kind = kind;
      this.description = description;
    }

    /**
     * Binds the operation to process {@code pid} (a restore learns it from the image) and
     * renames it; fails if another operation holds that pid.
     */
    public void claim(int pid, String description) {
      synchronized (Operations.this) {
        for (Operation other : running) {
          if (other != this && other.pid == pid) {
            throw AccrException.failed("process %d is already being %s", pid,
                other.kind.participle);
          }
        }
        this.pid = pid;
        this.description = description;
      }
    }

    @Override
    public void check() {
      if (cancelled) {
        throw AccrException.failed("%s cancelled: node %s is stopping", description, node);
      }
    }

    @Override
    public void close() {
      synchronized (Operations.this) {
        running.remove(this);
        Operations.this.notifyAll();
      }
    }

    @Override
    public String toString() {
      return description;
    }
  }

  private final String node;
  private final List<Operation> running = new ArrayList<>(); // guarded by this
  private boolean stopping;

  public Operations(String node) {
    this.node = node;
  }

  /** Starts an operation of {@code kind} on process {@code pid}, or refuses it. */
  public synchronized Operation begin(Kind kind, int pid, String description) {
    Operation op = begin(kind, description);
    try {
      op.claim(pid, description);
      return op;
    } catch (AccrException e) {
      op.close();
      throw e;
    }
  }

  /** Starts an operation whose process is not known yet (see {@link Operation#claim}). */
  public synchronized Operation begin(Kind kind, String description) {
    if (stopping) {
      throw AccrException.failed("node %s is stopping: %s refused", node, description);
    }
    Operation op = new Operation(kind, description);
    running.add(op);
    return op;
  }

  /**
   * Refuses new operations from now on; with {@code cancel}, cancels those running. Returns
   * what is still running. May be called again (e.g. to cancel after waiting).
   */
  public synchronized List<String> stop(boolean cancel) {
    stopping = true;
    if (cancel) {
      running.forEach(op -> op.cancelled = true);
    }
    return running.stream().map(Operation::toString).toList();
  }

  /** What is running now. */
  public synchronized List<String> running() {
    return running.stream().map(Operation::toString).toList();
  }

  /** Waits until no operation runs. */
  public synchronized void awaitIdle() throws InterruptedException {
    while (!running.isEmpty()) {
      wait();
    }
  }
}
