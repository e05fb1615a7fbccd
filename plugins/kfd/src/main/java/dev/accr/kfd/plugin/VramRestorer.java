package dev.accr.kfd.plugin;

import dev.accr.api.AccrException;
import dev.accr.api.BulkReader;
import dev.accr.api.CorruptImageException;
import dev.accr.api.PluginContext;
import dev.accr.kfd.driver.KfdCriu.VramExtent;
import dev.accr.kfd.driver.SdmaEngine;
import dev.accr.kfd.driver.Vram;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Loads each GPU's bulk file into the restored VRAM, every GPU at once: chunks are read and
 * checked by the host's readers and copied into place by the GPU's SDMA engines in turn (or by
 * the CPU for chunks in the visible window, when asked). A chunk must fall inside a restored
 * buffer or VRAM-resident SVM page run of its GPU.
 */
final class VramRestorer {
  private final PluginContext ctx;
  private final CopyMode mode;

  VramRestorer(PluginContext ctx, CopyMode mode) {
    this.ctx = ctx;
    this.mode = mode;
  }

  void restore(List<Integer> gpuIds, List<VramExtent> extents) {
    Map<Integer, TreeMap<Long, VramExtent>> byGpu = new TreeMap<>();
    for (VramExtent e : extents) {
      byGpu.computeIfAbsent(e.gpuId(), g -> new TreeMap<>()).put(e.va(), e);
    }
    AtomicReference<RuntimeException> failure = new AtomicReference<>();
    AtomicLong done = new AtomicLong();
    long total = extents.stream().mapToLong(VramExtent::length).sum();
    List<Thread> threads = new ArrayList<>();
    for (int gpuId : gpuIds) {
      TreeMap<Long, VramExtent> targets = byGpu.getOrDefault(gpuId, new TreeMap<>());
      threads.add(Thread.ofPlatform().name("kfd-vram-restore").daemon().start(() -> {
        try (BulkReader reader = ctx.images().openBulk("vram", gpuId)) {
          AtomicInteger engine = new AtomicInteger();
          reader.forEach(ctx.images().parallelism(), (key, data) -> {
            copyIn(gpuId, targets, key, data, engine);
            ctx.progress("vram", done.addAndGet(data.byteSize()), total);
          });
        } catch (RuntimeException e) {
          failure.compareAndSet(null, e);
        } catch (Throwable t) { // never lose a failure: the restore must not go on without it
          failure.compareAndSet(null, AccrException.failed("kfd: VRAM restore of gpu 0x%x"
              + " failed: %s", gpuId, t));
        }
      }));
    }
    for (Thread t : threads) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw AccrException.failed("kfd: VRAM restore interrupted");
      }
    }
    if (failure.get() != null) {
      throw failure.get();
    }
  }

  private void copyIn(int gpuId, TreeMap<Long, VramExtent> targets, long va, MemorySegment data,
      AtomicInteger engine) {
    var e = targets.floorEntry(va);
    long length = data.byteSize();
    if (e == null || va + length > e.getValue().va() + e.getValue().length()) {
      throw new CorruptImageException(String.format("kfd-vram-%d.pagemap.img", gpuId),
          String.format("chunk at va 0x%x (%d bytes) is outside every VRAM buffer of gpu 0x%x",
              va, length, gpuId));
    }
    VramExtent x = e.getValue();
    long offset = x.vramOffset() + (va - x.va());
    Vram vram = x.gpu().vram();
    boolean byCpu = mode == CopyMode.CPU || (mode == CopyMode.AUTO && x.cpuReachable());
    if (byCpu) {
      if (offset + length > vram.visibleBytes()) {
        throw AccrException.failed("kfd: vram-copy=cpu cannot reach VRAM at va 0x%x on gpu"
            + " 0x%x (outside the %d MiB CPU-visible window); use --plugin-opt"
            + " kfd.vram-copy=dma or auto", va, gpuId,
            vram.visibleBytes() >> 20);
      }
      vram.copyIn(data, 0, offset, length);
      return;
    }
    List<SdmaEngine> engines = x.gpu().sdmaEngines();
    SdmaEngine sdma = engines.get(Math.floorMod(engine.getAndIncrement(), engines.size()));
    try {
      sdma.await(sdma.submit(List.of(() -> vram.copyIn(data, 0, offset, length))));
    } catch (java.util.concurrent.CompletionException ex) {
      throw ex.getCause() instanceof RuntimeException r ? r : ex;
    }
  }
}
