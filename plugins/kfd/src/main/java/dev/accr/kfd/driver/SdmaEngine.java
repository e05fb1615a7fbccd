package dev.accr.kfd.driver;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * One SDMA engine of a GPU: a device thread that executes batches of copy packets in order.
 * The only way to reach VRAM outside the CPU-visible window; the checkpoint plugin drives all
 * engines of all GPUs at once.
 */
public final class SdmaEngine implements AutoCloseable {
  /** One copy packet: moves bytes between VRAM and host memory or another GPU's VRAM. */
  @FunctionalInterface
  public interface CopyPacket {
    void execute();
  }

  private record Batch(List<CopyPacket> packets, CompletableFuture<Void> fence) {}

  private static final Batch STOP = new Batch(List.of(), null);

  private final LinkedBlockingQueue<Batch> ring = new LinkedBlockingQueue<>();
  private final Thread thread;

  SdmaEngine(String name) {
    this.thread = Thread.ofPlatform().name(name).daemon().start(this::run);
  }

  /**
   * Submits a batch of packets; the returned fence completes when all have executed (or
   * completes exceptionally with the first failure).
   */
  public CompletableFuture<Void> submit(List<CopyPacket> packets) {
    CompletableFuture<Void> fence = new CompletableFuture<>();
    ring.add(new Batch(List.copyOf(packets), fence));
    return fence;
  }

  private void run() {
    while (true) {
      Batch b;
      try {
        b = ring.take();
      } catch (InterruptedException e) {
        return;
      }
      if (b == STOP) {
        return;
      }
      try {
        for (CopyPacket p : b.packets()) {
          p.execute();
        }
        b.fence().complete(null);
      } catch (RuntimeException e) {
        b.fence().completeExceptionally(e);
      }
    }
  }

  /** Stops the engine after the batches already submitted. */
  @Override
  public void close() {
    ring.add(STOP);
  }
}
