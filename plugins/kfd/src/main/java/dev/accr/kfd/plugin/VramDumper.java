package dev.accr.kfd.plugin;

import dev.accr.api.AccrException;
import dev.accr.api.BulkWriter;
import dev.accr.api.PluginContext;
import dev.accr.kfd.driver.SdmaEngine;
import dev.accr.kfd.driver.Vram;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Saves VRAM into one bulk file per GPU (written in parallel lanes by the host). The DMA path
 * runs every SDMA engine of every GPU at once: an engine's feeder thread takes a batch of
 * pieces and as many staging buffers and submits one batch of copy packets, again and again
 * while buffers are free; each batch's fence hands the filled buffers to the writers, which
 * compress and write them and give the buffers back. Copies thus overlap compression and I/O,
 * within the staging budget. CPU pieces go straight from the visible window to the writers.
 */
final class VramDumper {
  private static final int BATCH = 4;
  /**
   * Stored chunk size, as the core's memory pages: a writer's passes over a chunk (zero check,
   * checksums, write) then stay within a core's cache.
   */
  private static final int CHUNK = 1 << 20;

  private final PluginContext ctx;
  private final StagingPool staging;
  private final AtomicLong done = new AtomicLong();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();

  VramDumper(PluginContext ctx, StagingPool staging) {
    this.ctx = ctx;
    this.staging = staging;
  }

  /** Dumps every GPU's pieces; returns bytes stored. */
  long dump(List<VramPieces> gpus) {
    long total = gpus.stream().mapToLong(VramPieces::bytes).sum();
    int writers = Math.max(1, ctx.images().parallelism());
    List<BulkWriter> files = new ArrayList<>();
    List<Thread> drivers = new ArrayList<>();
    try (ExecutorService writePool = Executors.newFixedThreadPool(writers,
        Thread.ofPlatform().name("kfd-vram-write-", 0).daemon().factory())) {
      List<Future<?>> cpuWrites = new ArrayList<>();
      List<CompletableFuture<Void>> fences = java.util.Collections.synchronizedList(new ArrayList<>());
      for (VramPieces g : gpus) {
        BulkWriter out = ctx.images().createBulk("vram", g.gpuId());
        files.add(out);
        for (VramPieces.Piece p : g.cpu()) {
          cpuWrites.add(writePool.submit(() -> guarded(() -> {
            out.write(p.va(), p.extent().gpu().vram().forRead(p.vramOffset(), p.length()));
            progress(p.length(), total);
          })));
        }
        if (!g.dma().isEmpty()) {
          AtomicInteger next = new AtomicInteger();
          List<SdmaEngine> engines = g.dma().getFirst().extent().gpu().sdmaEngines();
          for (SdmaEngine engine : engines) {
            drivers.add(Thread.ofPlatform().name("kfd-sdma-feeder").daemon().start(() ->
                guarded(() -> fences.addAll(driveEngine(engine, g.dma(), next, out, writePool,
                    total)))));
          }
        }
      }
      for (Thread t : drivers) {
        t.join();
      }
      for (CompletableFuture<Void> f : fences) {
        f.handle((ok, error) -> null).join(); // a failed batch is in failure already
      }
      for (Future<?> f : cpuWrites) {
        f.get();
      }
      writePool.shutdown();
      writePool.awaitTermination(1, java.util.concurrent.TimeUnit.HOURS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw AccrException.failed("kfd: VRAM dump interrupted");
    } catch (java.util.concurrent.ExecutionException e) {
      failure.compareAndSet(null, e.getCause());
    }
    rethrow();
    long stored = 0;
    for (BulkWriter f : files) {
      f.close();
      stored += f.bytesStored();
    }
    return stored;
  }

  /**
   * Feeds one engine: batches are submitted as long as staging buffers are free, and each
   * batch's fence hands its buffers to the writers, so the engine always has work queued.
   * Returns the fences of the batches submitted.
   */
  private List<CompletableFuture<Void>> driveEngine(SdmaEngine engine,
      List<VramPieces.Piece> pieces, AtomicInteger next, BulkWriter out,
      ExecutorService writePool, long total) throws InterruptedException {
    List<CompletableFuture<Void>> fences = new ArrayList<>();
    while (failure.get() == null) {
      List<VramPieces.Piece> batch = new ArrayList<>(BATCH);
      List<MemorySegment> buffers = new ArrayList<>(BATCH);
      for (int i = 0; i < BATCH; i++) {
        MemorySegment buffer = i == 0 ? staging.take() : staging.poll();
        if (buffer == null) {
          break;
        }
        int index = next.getAndIncrement();
        if (index >= pieces.size()) {
          staging.give(buffer);
          break;
        }
        batch.add(pieces.get(index));
        buffers.add(buffer);
      }
      if (batch.isEmpty()) {
        break;
      }
      List<SdmaEngine.CopyPacket> packets = new ArrayList<>(batch.size());
      for (int i = 0; i < batch.size(); i++) {
        VramPieces.Piece p = batch.get(i);
        MemorySegment buffer = buffers.get(i);
        Vram vram = p.extent().gpu().vram();
        packets.add(() -> vram.copyOut(p.vramOffset(), buffer, 0, p.length()));
      }
      fences.add(engine.submit(packets).whenComplete((ok, error) -> {
        if (error != null) {
          failure.compareAndSet(null, error);
          buffers.forEach(staging::give);
          return;
        }
        for (int i = 0; i < batch.size(); i++) {
          write(out, batch.get(i), buffers.get(i), writePool, total);
        }
      }));
    }
    return fences;
  }

  /** Hands a filled staging buffer to the writers, which give it back once stored. */
  private void write(BulkWriter out, VramPieces.Piece p, MemorySegment buffer,
      ExecutorService writePool, long total) {
    writePool.execute(() -> {
      try {
        guarded(() -> {
          for (int at = 0; at < p.length(); at += CHUNK) {
            int n = Math.min(CHUNK, p.length() - at);
            out.write(p.va() + at, buffer.asSlice(at, n));
            progress(n, total);
          }
        });
      } finally {
        staging.give(buffer);
      }
    });
  }

  private void progress(long bytes, long total) {
    ctx.progress("vram", done.addAndGet(bytes), total);
  }

  /** Runs {@code body}, keeping the first failure for the dumping thread. */
  private void guarded(Body body) {
    if (failure.get() != null) {
      return;
    }
    try {
      body.run();
    } catch (Throwable t) {
      failure.compareAndSet(null, t);
    }
  }

  private void rethrow() {
    Throwable t = failure.get();
    if (t instanceof java.util.concurrent.CompletionException c && c.getCause() != null) {
      t = c.getCause();
    }
    if (t instanceof RuntimeException r) {
      throw r;
    }
    if (t != null) {
      throw AccrException.failed("kfd: VRAM dump failed: %s", t);
    }
  }

  @FunctionalInterface
  private interface Body {
    void run() throws Exception;
  }
}
