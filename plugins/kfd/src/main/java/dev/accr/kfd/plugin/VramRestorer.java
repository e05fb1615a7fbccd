package dev.accr.kfd.plugin;

import dev.accr.api.AccrException;
import dev.accr.api.BulkReader;
import dev.accr.api.CorruptImageException;
import dev.accr.api.PluginContext;
import dev.accr.api.PluginImages;
import dev.accr.kfd.proto.KfdVramWritten;
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

  /**
   * Restores VRAM from the set and, for an incremental set, its parents: from the last full
   * link on, each link's written ranges are zeroed and its stored chunks copied, so every
   * byte ends as the newest link that wrote it has it. Chunks of parents outside today's
   * buffers (freed since, or SVM pages that moved) are skipped.
   */
  void restoreChain(int pid, List<Integer> gpuIds, List<VramExtent> extents) {
    List<PluginImages> links = new ArrayList<>();
    PluginImages link = ctx.images();
    links.add(link);
    while (link.hasEntries("vram-written", pid)) {
      link = link.parent();
      if (link == null) {
        throw new CorruptImageException("kfd-vram-written-" + pid + ".img",
            "an incremental VRAM image in a set without parent");
      }
      links.add(link);
    }
    for (int i = links.size() - 1; i >= 0; i--) {
      PluginImages l = links.get(i);
      if (i < links.size() - 1) {
        zero(l.readEntries("vram-written", pid, KfdVramWritten.parser()), extents);
      }
      restore(l, i == 0, gpuIds, extents);
    }
  }

  /** Zeroes the parts of {@code written} that lie in today's VRAM extents. */
  private static void zero(List<KfdVramWritten> written, List<VramExtent> extents) {
    for (KfdVramWritten w : written) {
      for (VramExtent x : extents) {
        long from = Math.max(w.getVa(), x.va());
        long to = Math.min(w.getVa() + w.getLength(), x.va() + x.length());
        if (x.gpuId() == w.getGpuId() && to > from) {
          x.gpu().vram().forWrite(x.vramOffset() + (from - x.va()), to - from).fill((byte) 0);
        }
      }
    }
  }

  void restore(List<Integer> gpuIds, List<VramExtent> extents) {
    restore(ctx.images(), true, gpuIds, extents);
  }

  private void restore(PluginImages images, boolean strict, List<Integer> gpuIds,
      List<VramExtent> extents) {
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
        try (BulkReader reader = images.openBulk("vram", gpuId)) {
          AtomicInteger engine = new AtomicInteger();
          reader.forEach(ctx.images().parallelism(), (key, data) -> {
            if (strict || inside(targets, key, data.byteSize())) {
              copyIn(gpuId, targets, key, data, engine);
            } else {
              // A parent's chunk: only what still lies in today's buffers and VRAM-resident SVM
              // pages (a buffer may be freed since, a page may have moved).
              long end = key + data.byteSize();
              Long from = targets.floorKey(key);
              for (VramExtent x : targets.subMap(from == null ? key : from, true, end, false)
                  .values()) {
                long a = Math.max(key, x.va());
                long b = Math.min(end, x.va() + x.length());
                if (b > a) {
                  copyIn(gpuId, targets, a, data.asSlice(a - key, b - a), engine);
                }
              }
            }
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

  private static boolean inside(TreeMap<Long, VramExtent> targets, long va, long length) {
    var e = targets.floorEntry(va);
    return e != null && va + length <= e.getValue().va() + e.getValue().length();
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
