package dev.accr.node;

import dev.accr.engine.StagedChain;
import dev.accr.kernel.Node;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The pre-copy migrations coming to this node whose rounds are loaded ahead of the stop: one
 * {@link StagedChain} per migration, fed in the background by a thread of its own as each
 * round arrives (the first once the target's check of it passed), taken by the restore after
 * the stop. A migration's stage is freed when the migration is restored or discarded, when a
 * round fails to arrive (the source's connection broke), and when its source has been silent
 * for {@link #idleMillis} (the source is gone): no stage outlives its migration.
 */
final class MigrationStages {
  private static final Logger LOG = Logger.getLogger(MigrationStages.class.getName());
  /** A stage whose source sent nothing for this long is dropped. */
  static final long IDLE_MILLIS = 120_000;

  private final Node node;
  private final dev.accr.plugin.PluginHost plugins;
  private final Map<String, Stage> stages = new ConcurrentHashMap<>();
  private volatile long idleMillis = IDLE_MILLIS;
  /** How long the restore, or the source, waits for the rounds to be staged at most. */
  static final long AWAIT_MILLIS = 60_000;
  private volatile long awaitMillis = AWAIT_MILLIS;
  private volatile Stager stager = StagedChain::stage;

  /** Loads one round into a migration's stage. */
  @FunctionalInterface
  interface Stager {
    void stage(StagedChain chain, Path round) throws java.io.IOException;
  }

  MigrationStages(Node node, dev.accr.plugin.PluginHost plugins) {
    this.node = node;
    this.plugins = plugins;
  }

  /** Drops stages whose source was silent for {@code millis} (tests shorten it). */
  void idleMillis(long millis) {
    this.idleMillis = millis;
  }

  /** Begins staging migration {@code id} with its first round, in {@code dir}. */
  void begin(String id, Path dir, int threads) {
    Stage s = new Stage(id, new StagedChain(node, plugins, threads));
    Stage old = stages.put(id, s);
    if (old != null) {
      old.close();
    }
    s.add(dir);
  }

  /** A round of migration {@code id} begins to arrive: its source is alive. */
  void receiving(String id, boolean begins) {
    Stage s = stages.get(id);
    if (s != null) {
      s.receiving(begins);
    }
  }

  /** Round {@code dir} of migration {@code id} arrived whole; it is staged after the others. */
  void arrived(String id, Path dir) {
    Stage s = stages.get(id);
    if (s != null) {
      s.add(dir);
    }
  }

  /**
   * Takes the stage of migration {@code id} for its restore, once every round that arrived is
   * staged; null when there is none, or when staging did not end within {@link #awaitMillis}
   * (the stage is abandoned: the restore reads the images). The caller closes it.
   */
  StagedChain take(String id) throws InterruptedException {
    Stage s = stages.remove(id);
    if (s == null) {
      return null;
    }
    return s.awaitStaged();
  }

  /**
   * Waits until every round of migration {@code id} that arrived is staged (the process still
   * runs on the source); returns how many rounds are, 0 when there is no stage or staging did
   * not end within {@link #awaitMillis} (the stage is then abandoned).
   */
  int awaitStaged(String id) throws InterruptedException {
    Stage s = stages.get(id);
    if (s == null) {
      return 0;
    }
    int n = s.awaitPending();
    if (n < 0) {
      stages.remove(id, s);
      return 0;
    }
    return n;
  }

  /** Waits at most {@code millis} for the rounds to be staged (tests shorten it). */
  void awaitMillis(long millis) {
    this.awaitMillis = millis;
  }

  /** Loads the rounds with {@code s} (tests stand in for the loading). */
  void stager(Stager s) {
    this.stager = s;
  }

  /** Frees the stage of migration {@code id}, if any. */
  void drop(String id) {
    Stage s = stages.remove(id);
    if (s != null) {
      s.close();
    }
  }

  /** Frees every stage: the node stops. */
  void closeAll() {
    for (String id : List.copyOf(stages.keySet())) {
      drop(id);
    }
  }

  /** How many migrations have a stage (for tests). */
  int count() {
    return stages.size();
  }

  /** One migration's stage and the thread that feeds it. */
  private final class Stage {
    private final String id;
    private final StagedChain chain;
    private final ArrayDeque<Path> queue = new ArrayDeque<>();
    private final Thread worker;
    private int pending;
    private int receiving;
    /** Callers waiting for the rounds to be staged: the stage does not expire meanwhile. */
    private int waiting;
    private long touched = System.nanoTime();
    private boolean closed;
    /** Whether the chain was handed to a restore (which closes it then). */
    private boolean handedOver;

    Stage(String id, StagedChain chain) {
      this.id = id;
      this.chain = chain;
      this.worker = Thread.ofPlatform().daemon().name("migration-stage-" + id.substring(0, 8))
          .start(this::run);
    }

    synchronized void add(Path dir) {
      queue.add(dir);
      pending++;
      touched = System.nanoTime();
      notifyAll();
    }

    synchronized void receiving(boolean begins) {
      receiving += begins ? 1 : -1;
      touched = System.nanoTime();
    }

    /** The rounds staged, or -1 when staging did not end in time (the stage is abandoned). */
    synchronized int awaitPending() throws InterruptedException {
      boolean inTime = awaitRounds();
      touched = System.nanoTime();
      if (!inTime) {
        abandon();
        return -1;
      }
      return closed ? 0 : chain.ids().size();
    }

    /**
     * The chain, handed over, once its rounds are staged; null when it was closed or staging
     * did not end in time. Interrupted, the stage is freed.
     */
    synchronized StagedChain awaitStaged() throws InterruptedException {
      boolean inTime;
      try {
        inTime = awaitRounds();
      } catch (InterruptedException e) {
        abandon();
        throw e;
      }
      if (!inTime || closed) {
        abandon();
        return null;
      }
      closed = true; // the worker ends; the chain is the restore's now
      handedOver = true;
      notifyAll();
      return chain;
    }

    /** Waits for the pending rounds; false when {@link #awaitMillis} passed first. */
    private boolean awaitRounds() throws InterruptedException {
      long deadline = System.nanoTime() + awaitMillis * 1_000_000;
      waiting++;
      try {
        while (pending > 0 && !closed) {
          long left = (deadline - System.nanoTime()) / 1_000_000;
          if (left <= 0) {
            LOG.info("migration " + id + ": its rounds were not staged within " + awaitMillis
                + " ms: the restore reads them from the images");
            return false;
          }
          wait(left);
        }
        return true;
      } finally {
        waiting--;
      }
    }

    /** Ends the stage without waiting: the worker frees the chain as it ends. */
    private void abandon() {
      closed = true;
      chain.cancel();
      notifyAll();
    }

    void close() {
      synchronized (this) {
        closed = true;
        notifyAll();
      }
      chain.close();
    }

    private void run() {
      try {
        feed();
      } finally {
        boolean free;
        synchronized (this) {
          closed = true; // nobody takes it from here on
          free = !handedOver;
          notifyAll();
        }
        if (free) {
          chain.close();
        }
        stages.remove(id, this); // once its memory is freed
      }
    }

    private void feed() {
      while (true) {
        Path next;
        synchronized (this) {
          while (queue.isEmpty() && !closed) {
            long idle = (System.nanoTime() - touched) / 1_000_000;
            if (receiving == 0 && waiting == 0 && idle >= idleMillis) {
              LOG.info("migration " + id + ": its source was silent for " + idle
                  + " ms: the rounds loaded ahead are dropped");
              closed = true;
              break;
            }
            try {
              wait(Math.max(1, Math.min(1000, idleMillis - idle)));
            } catch (InterruptedException e) {
              closed = true;
            }
          }
          if (closed) {
            return;
          }
          next = queue.poll();
        }
        try {
          stager.stage(chain, next);
        } catch (Exception e) {
          // The restore reads every round from its images instead.
          LOG.log(Level.INFO, "migration " + id + ": staging " + next.getFileName()
              + " failed: " + e);
        } catch (Throwable e) {
          // Out of memory, say: the stage is freed and the restore reads the images.
          LOG.log(Level.WARNING, "migration " + id + ": staging " + next.getFileName()
              + " failed: " + e);
          chain.close();
        } finally {
          synchronized (this) {
            pending--;
            touched = System.nanoTime();
            notifyAll();
          }
        }
      }
    }
  }
}
