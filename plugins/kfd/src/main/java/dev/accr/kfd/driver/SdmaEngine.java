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

  private final ConcurrentLinkedQueue<Batch> ring = new ConcurrentLinkedQueue<>();
  /** Held while a batch executes: batches run one at a time, whoever runs them. */
  private final ReentrantLock executing = new ReentrantLock();
  /** One permit per batch submitted, taken by the device thread. */
  private final Semaphore doorbell = new Semaphore(0);
  private final AtomicLong executed = new AtomicLong();
  private volatile boolean closed;

  SdmaEngine(String name) {
    Thread.ofPlatform().name(name).daemon().start(this::run);
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
   * java.util.concurrent.CompletionException} with the failure as its cause.
   */
  public void await(CompletableFuture<Void> fence) {
    while (!fence.isDone()) {
      executing.lock();
      try {
        if (!executeNext()) {
          break; // the device thread has taken the last batch; it completes the fence
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
      boolean ran;
      executing.lock();
      try {
        ran = executeNext();
      } finally {
        executing.unlock();
      }
      if (!ran && closed) {
        return; // a batch a waiting thread ran leaves a spare permit; only an empty ring ends
      }
    }
  }

  /** Batches executed so far, by the device thread or by waiting threads. */
  public long batchesExecuted() {
    return executed.get();
  }

  /** Executes the next queued batch, if any; the caller holds {@link #executing}. */
  private boolean executeNext() {
    Batch b = ring.poll();
    if (b == null) {
      return false;
    }
    executed.incrementAndGet();
    try {
      for (CopyPacket p : b.packets()) {
        p.execute();
      }
      b.fence().complete(null);
    } catch (RuntimeException e) {
      b.fence().completeExceptionally(e);
    }
    return true;
  }

  /** Stops the device thread after the batches already submitted. */
  @Override
  public void close() {
    closed = true;
    doorbell.release();
  }
}
