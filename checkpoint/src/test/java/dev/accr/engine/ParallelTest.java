package dev.accr.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ParallelTest {
  private static List<String> messages(Throwable[] suppressed) {
    return Arrays.stream(suppressed).map(Throwable::getMessage).sorted().toList();
  }

  /**
   * Waits up to 10 s for {@code latch}, through the interrupts with which a failure cancels
   * the other workers; whether it opened.
   */
  private static boolean awaitThroughInterrupts(CountDownLatch latch) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (latch.getCount() > 0 && System.nanoTime() < deadline) {
      try {
        latch.await(10, TimeUnit.MILLISECONDS);
      } catch (InterruptedException cancelled) {
        // waits on: the latch, not the interrupt, decides
      }
    }
    return latch.getCount() == 0;
  }

  @Test
  void aFailureOfTheCallingWorkerCarriesThePoolWorkersFailures() throws Exception {
    CountDownLatch poolFailed = new CountDownLatch(2);
    IOException e = assertThrows(IOException.class, () -> Parallel.run(3, () -> {}, w -> {
      if (w == 0) {
        try {
          poolFailed.await(10, TimeUnit.SECONDS); // both pool workers have failed first
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
        }
        throw new IOException("caller");
      }
      poolFailed.countDown();
      throw new IllegalStateException("worker " + w);
    }));
    assertEquals("caller", e.getMessage());
    assertEquals(List.of("worker 1", "worker 2"), messages(e.getSuppressed()));
  }

  @Test
  void aFailureStopsTheSharedWorkAndTheOthersEndAfterThePieceInHand() throws Exception {
    int pieces = 1000;
    AtomicInteger next = new AtomicInteger();
    AtomicInteger done = new AtomicInteger();
    CountDownLatch stopped = new CountDownLatch(1);
    IOException e = assertThrows(IOException.class, () -> Parallel.run(3, () -> {
      next.set(pieces);
      stopped.countDown();
    }, w -> {
      for (int i; (i = next.getAndIncrement()) < pieces; ) {
        if (w == 1) {
          throw new IOException("worker 1 failed");
        }
        // The others hold their piece until the failure has stopped the work.
        if (!awaitThroughInterrupts(stopped)) {
          throw new IOException("worker " + w + " was not stopped");
        }
        done.incrementAndGet();
      }
    }));
    assertEquals("worker 1 failed", e.getMessage());
    assertEquals(List.of(), messages(e.getSuppressed()));
    assertTrue(done.get() <= 2, "pieces done after the failure: " + done.get());
  }

  @Test
  void onAVirtualCallerEveryWorkersFailureIsKeptAndAllHaveEndedWhenItIsThrown()
      throws Exception {
    AtomicInteger ended = new AtomicInteger();
    CountDownLatch bothRunning = new CountDownLatch(2);
    Throwable[] thrown = new Throwable[1];
    int[] endedWhenThrown = new int[1];
    Thread caller = Thread.ofVirtual().start(() -> {
      try {
        Parallel.run(2, () -> {}, w -> {
          try {
            bothRunning.countDown();
            // The first failure cancels the other, which may not be past the latch yet: it
            // still fails as it would, so that both failures are known.
            awaitThroughInterrupts(bothRunning);
            throw new IOException("worker " + w);
          } finally {
            ended.incrementAndGet();
          }
        });
      } catch (Throwable t) {
        endedWhenThrown[0] = ended.get();
        thrown[0] = t;
      }
    });
    caller.join();
    assertEquals(2, endedWhenThrown[0]);
    List<String> all = new java.util.ArrayList<>(messages(thrown[0].getSuppressed()));
    all.add(thrown[0].getMessage());
    assertEquals(List.of("worker 0", "worker 1"), all.stream().sorted().toList());
  }
}
