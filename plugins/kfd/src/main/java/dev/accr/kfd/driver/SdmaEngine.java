package dev.accr.kfd.driver;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One SDMA engine of a GPU: executes batches of copy packets in submission order and signals
 * each batch's fence. The only way to reach VRAM outside the CPU-visible window; the
 * checkpoint plugin drives all engines of all GPUs at once.
 *
 * <p>The engine is simulated by a device thread. A thread that waits for a fence with {@link
 * #await} lends itself to the engine meanwhile: it executes the engine's next batches itself
 * (still one at a time, in order) rather than sleeping while the device thread waits to be
 * scheduled, which on a machine with few cores would leave the engine idle. What is copied, the
 * order and the fence semantics are the same whoever runs a batch.
 */
public final class SdmaEngine implements AutoCloseable {
  /** One copy packet: moves bytes between VRAM and host memory or another GPU's VRAM. */
  @FunctionalInterface
  public interface CopyPacket {
    void execute();
  }

  private record Batch(List<CopyPacket> packets, CompletableFuture<Void> fence) {}

  /** Queued by {@link #close}: every batch before it has run once it is taken. */
  private static final Batch STOP = new Batch(List.of(), null);

  private final ConcurrentLinkedQueue<Batch> ring = new ConcurrentLinkedQueue<>();
  /** Held while a batch executes: batches run one at a time, whoever runs them. */
  private final ReentrantLock executing = new ReentrantLock();
  /** One permit per batch submitted, taken by the device thread. */
  private final Semaphore doorbell = new Semaphore(0);
  private final AtomicLong executed = new AtomicLong();
  /** Set, under {@link #executing}, when {@link #STOP} is taken. */
  private boolean stopped;

  SdmaEngine(String name) {
    this(name, true);
  }

  /** Without a device thread (tests), batches run only in threads that {@link #await} them. */
  SdmaEngine(String name, boolean deviceThread) {
    if (deviceThread) {
      Thread.ofPlatform().name(name).daemon().start(this::run);
    }
  }

  /**
   * Submits a batch of packets; the returned fence completes when all have executed (or
   * completes exceptionally with the first failure).
   */
  public CompletableFuture<Void> submit(List<CopyPacket> packets) {
    CompletableFuture<Void> fence = new CompletableFuture<>();
    ring.add(new Batch(List.copyOf(packets), fence));
    doorbell.release();
    return fence;
  }

  /**
   * Waits until {@code fence} (of a batch submitted to this engine) is signalled, executing
   * this engine's queued batches in order meanwhile; a failed batch's fence throws {@link
   * java.util.concurrent.CompletionException} with the failure as its cause. Not interruptible:
   * a copy under way into a buffer must end before the buffer may be reused or freed.
   */
  public void await(CompletableFuture<Void> fence) {
    while (!fence.isDone()) {
      executing.lock();
      try {
        if (fence.isDone() || !executeNext()) {
          break; // done meanwhile, or not a fence of this engine's queue: nothing to run for it
        }
      } finally {
        executing.unlock();
      }
    }
    fence.join();
  }

  private void run() {
    while (true) {
      try {
        doorbell.acquire();
      } catch (InterruptedException e) {
        return;
      }
      executing.lock();
      try {
        executeNext();
        if (stopped) {
          return;
        }
      } finally {
        executing.unlock();
      }
    }
  }

  /** Batches executed (or failed) so far, by the device thread or by waiting threads. */
  public long batchesExecuted() {
    return executed.get();
  }

  /**
   * Executes the next queued batch, if any; the caller holds {@link #executing}. Whatever a
   * packet throws fails the batch's fence, so no waiter is left hanging.
   */
  private boolean executeNext() {
    Batch b = ring.poll();
    if (b == STOP) {
      stopped = true;
    }
    if (b == null || b == STOP) {
      return false;
    }
    try {
      for (CopyPacket p : b.packets()) {
        p.execute();
      }
      b.fence().complete(null);
    } catch (Throwable t) {
      b.fence().completeExceptionally(t);
    }
    executed.incrementAndGet();
    return true;
  }

  /** Stops the device thread after the batches already submitted. */
  @Override
  public void close() {
    ring.add(STOP);
    doorbell.release();
  }
}
