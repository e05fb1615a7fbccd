package dev.accr.engine;

import dev.accr.api.AccrException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs a fixed number of workers on platform threads (the calling one among them when it is
 * one) and rethrows the first failure, once every worker has ended, with the other workers'
 * failures added to it as suppressed. The workers share their work (a cursor, a counter of
 * files): the first failure stops it at once, so the others end after the piece in hand
 * instead of working through the rest of a run that has failed.
 */
final class Parallel {
  private Parallel() {}

  /** One worker's body; {@code index} runs from 0 to workers - 1. */
  @FunctionalInterface
  interface Body {
    void run(int index) throws IOException;
  }

  /**
   * Runs {@code body} on {@code workers} workers; {@code stop} makes the shared work hand out
   * nothing more, and runs on the first failure, on the thread that failed.
   */
  static void run(int workers, Runnable stop, Body body) throws IOException {
    if (workers == 1) {
      body.run(0);
      return;
    }
    // A platform caller is worker 0: a short run does not wait for one more thread to be
    // started and scheduled, nor hand its result over from it. A virtual caller (a node's
    // request) is not: long native calls (compression, checksums) would hold one of the few
    // carrier threads that heartbeats and other requests need.
    int first = Thread.currentThread().isVirtual() ? 0 : 1;
    Queue<Throwable> failed = new ConcurrentLinkedQueue<>();
    Throwable thrown = null;
    try (ExecutorService pool = Executors.newFixedThreadPool(workers - first,
        Thread.ofPlatform().name("accr-io-", 1).daemon().factory())) {
      List<Future<?>> futures = new ArrayList<>();
      for (int i = first; i < workers; i++) {
        int index = i;
        futures.add(pool.submit((Callable<Void>) () -> {
          try {
            body.run(index);
          } catch (IOException | RuntimeException | Error e) {
            failed.add(e);
            stop.run();
            throw e;
          }
          return null;
        }));
      }
      try {
        if (first == 1) {
          try {
            body.run(0);
          } catch (IOException | RuntimeException | Error e) {
            stop.run();
            throw e;
          }
        }
        for (Future<?> f : futures) {
          f.get();
        }
      } catch (IOException | RuntimeException | Error e) {
        thrown = e; // the caller's own failure
      } catch (ExecutionException e) {
        thrown = e.getCause();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        stop.run();
        thrown = AccrException.failed("interrupted");
      }
      if (thrown != null) {
        futures.forEach(other -> other.cancel(true));
      }
    } // closing the pool waits for every worker to end
    if (thrown == null) {
      return;
    }
    for (Throwable t : failed) {
      if (t != thrown) {
        thrown.addSuppressed(t);
      }
    }
    throw unwrap(thrown);
  }

  private static RuntimeException unwrap(Throwable t) throws IOException {
    if (t instanceof IOException io) {
      throw io;
    }
    if (t instanceof UncheckedIOException u) {
      throw u.getCause();
    }
    if (t instanceof RuntimeException r) {
      return r;
    }
    if (t instanceof Error e) {
      throw e;
    }
    return new IllegalStateException(t);
  }
}
