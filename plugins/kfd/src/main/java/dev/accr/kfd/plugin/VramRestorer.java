package dev.accr.kfd.plugin;

import dev.accr.api.AccrException;
import dev.accr.api.BulkReader;
import dev.accr.api.CorruptImageException;
import dev.accr.api.PluginContext;
import dev.accr.api.PluginImages;
import dev.accr.kfd.driver.KfdCriu.VramExtent;
import dev.accr.kfd.driver.SdmaEngine;
import dev.accr.kfd.driver.Vram;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Loads each GPU's bulk file into the restored VRAM, every GPU at once: chunks are read and
 * checked by the host's readers and copied into place by the GPU's SDMA engines in turn (or by
 * the CPU for chunks in the visible window, when asked), the pieces of one chunk (many, in a
 * packed incremental set) behind one fence. The copies run asynchronously ({@link
 * BulkReader#forEachAsync}): while engines copy, the readers read and check the next chunks, so
 * several copies are in flight per engine, as when dumping. A piece must fall inside a restored buffer or
 * VRAM-resident SVM page run of its GPU.
 */
final class VramRestorer {
  private final PluginContext ctx;
  private final CopyMode mode;

  VramRestorer(PluginContext ctx, CopyMode mode) {
    this.ctx = ctx;
    this.mode = mode;
  }

  /**
   * Restores VRAM from the set and, for an incremental set, its parents, so that every byte
   * ends as the newest link that wrote it has it. The links are read newest first, each
   * keeping out of what a newer one settled ({@link VaRanges}): it zeroes only the parts of
   * its written ranges no newer link wrote or stored, and copies only such parts of its stored
   * pieces, so each byte is copied once however many links rewrote it. A link none of whose
   * pieces is left to copy on a GPU is not read there at all. Pieces of parents outside
   * today's buffers (freed since, or SVM pages that moved) are skipped.
   */
  void restoreChain(int pid, List<Integer> gpuIds, List<VramExtent> extents) {
    restoreChain(pid, gpuIds, extents, 0);
  }

  /**
   * {@link #restoreChain(int, List, List)} once the {@code staged} oldest links are in VRAM
   * already (a pre-copy migration's rounds, {@link StagedVram}): only the newer ones are read,
   * and the staged bytes they did not write stay.
   */
  void restoreChain(int pid, List<Integer> gpuIds, List<VramExtent> extents, int staged) {
    List<PluginImages> links = FoldedVram.chain(ctx.images(), pid);
    Map<Integer, TreeMap<Long, VramExtent>> targets = byGpu(extents);
    Map<Integer, VaRanges> settled = new TreeMap<>();
    Progress progress = new Progress(extents);
    int oldest = links.size() - 1 - staged;
    for (int i = 0; i <= oldest; i++) {
      PluginImages l = links.get(i);
      List<StoredVram.Written> written = StoredVram.written(l, pid);
      if (i < links.size() - 1) { // the full link at the chain's start wrote everything
        zero(written, targets, settled, StoredVram.writtenFile(pid));
      }
      restore(l, pid, StoredVram.packed(l, pid), i == 0, gpuIds, targets, settled, progress);
      for (StoredVram.Written w : written) {
        settled.computeIfAbsent(w.gpuId(), g -> new VaRanges()).add(w.va(), w.va() + w.length());
      }
    }
  }

  private static Map<Integer, TreeMap<Long, VramExtent>> byGpu(List<VramExtent> extents) {
    Map<Integer, TreeMap<Long, VramExtent>> byGpu = new TreeMap<>();
    for (VramExtent e : extents) {
      byGpu.computeIfAbsent(e.gpuId(), g -> new TreeMap<>()).put(e.va(), e);
    }
    return byGpu;
  }

  /** Progress in bytes copied, of the bytes of today's extents. */
  private record Progress(AtomicLong done, long total) {
    Progress(List<VramExtent> extents) {
      this(new AtomicLong(), extents.stream().mapToLong(VramExtent::length).sum());
    }
  }

  /**
   * Zeroes the parts of {@code written} that lie in today's VRAM extents and that no newer
   * link settled.
   */
  private static void zero(List<StoredVram.Written> written,
      Map<Integer, TreeMap<Long, VramExtent>> targets, Map<Integer, VaRanges> settled,
      String file) {
    for (StoredVram.Written w : written) {
      checkRange(w.va(), w.length(), file, "written range");
      TreeMap<Long, VramExtent> mine = targets.get(w.gpuId());
      if (mine == null) {
        continue;
      }
      VaRanges newer = settled.getOrDefault(w.gpuId(), new VaRanges());
      forEachInside(mine, w.va(), w.length(), (x, from, to) -> newer.forEachUncovered(from, to,
          (a, b) -> fillZero(x.gpu().vram(), x.vramOffset() + (a - x.va()), b - a)));
    }
  }

  /** A range of {@code length} bytes at {@code va} must not wrap round the address space. */
  private static void checkRange(long va, long length, String file, String what) {
    if (length < 0 || va > Long.MAX_VALUE - length) {
      throw new CorruptImageException(file, String.format("a %s at va 0x%x of %d bytes wraps"
          + " round the address space", what, va, length));
    }
  }

  /** Zeroes VRAM block by block (a written range may span several). */
  private static void fillZero(Vram vram, long offset, long length) {
    while (length > 0) {
      long n = Math.min(length, Vram.BLOCK - offset % Vram.BLOCK);
      vram.forWrite(offset, n).fill((byte) 0);
      offset += n;
      length -= n;
    }
  }

  /** The parts of [va, va + length) inside today's extents, one call per extent. */
  private static void forEachInside(TreeMap<Long, VramExtent> targets, long va, long length,
      Overlap overlap) {
    long end = va + length;
    Long from = targets.floorKey(va);
    for (VramExtent x : targets.subMap(from == null ? va : from, true, end, false).values()) {
      long a = Math.max(va, x.va());
      long b = Math.min(end, x.va() + x.length());
      if (b > a) {
        overlap.accept(x, a, b);
      }
    }
  }

  @FunctionalInterface
  private interface Overlap {
    void accept(VramExtent extent, long from, long to);
  }

  void restore(int pid, List<Integer> gpuIds, List<VramExtent> extents) {
    restore(ctx.images(), pid, Map.of(), true, gpuIds, byGpu(extents), new TreeMap<>(),
        new Progress(extents));
  }

  /**
   * Restores one link: on each GPU, the parts of its stored pieces that lie in today's extents
   * and that no newer link settled ({@code settled}, to which this link's pieces are added).
   * A {@code strict} link (the newest) must have every piece inside an extent.
   */
  private void restore(PluginImages images, int pid, Map<Integer, PackedRuns> packed,
      boolean strict, List<Integer> gpuIds, Map<Integer, TreeMap<Long, VramExtent>> byGpu,
      Map<Integer, VaRanges> settled, Progress progress) {
    AtomicReference<RuntimeException> failure = new AtomicReference<>();
    List<Thread> threads = new ArrayList<>();
    if (new java.util.HashSet<>(gpuIds).size() != gpuIds.size()) {
      throw new IllegalArgumentException("a GPU twice in " + gpuIds); // one thread a GPU
    }
    for (int gpuId : gpuIds) {
      TreeMap<Long, VramExtent> targets = byGpu.getOrDefault(gpuId, new TreeMap<>());
      VaRanges newer = settled.computeIfAbsent(gpuId, g -> new VaRanges()); // this thread's
      threads.add(Thread.ofPlatform().name("kfd-vram-restore").daemon().start(() -> {
        try (StoredVram stored = StoredVram.open(images, pid, gpuId, packed)) {
          List<StoredVram.Placed> chunks = stored.chunks();
          if (strict || anyToCopy(chunks, targets, newer, stored.file())) {
            copyChunks(stored, gpuId, strict, targets, newer, progress);
          }
          for (StoredVram.Placed c : chunks) { // settled once this link's copies are done
            for (StoredVram.Piece p : c.pieces()) {
              newer.add(p.va(), p.va() + p.length());
            }
          }
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

  /**
   * Reads every chunk of one GPU's stored VRAM (checked) and copies what is left of its
   * pieces, several chunks in flight at once.
   */
  private void copyChunks(StoredVram stored, int gpuId, boolean strict,
      TreeMap<Long, VramExtent> targets, VaRanges newer, Progress progress) {
    AtomicInteger engine = new AtomicInteger();
    stored.forEachAsync(ctx.images().parallelism(), (pieces, data) -> {
      List<Copy> copies = new ArrayList<>(pieces.size());
      for (StoredVram.Piece p : pieces) {
        plan(gpuId, p, strict, targets, newer, stored.file(), copies);
      }
      long bytes = copies.stream().mapToLong(Copy::length).sum();
      return copyIn(copies, data, engine,
          () -> ctx.progress("vram", progress.done().addAndGet(bytes), progress.total()));
    });
  }

  /**
   * The copies of one piece: the parts of it in today's extents that no newer link settled.
   * A parent's piece may lie partly or wholly outside them (a buffer may be freed since, a
   * page may have moved); a strict one must lie in one.
   */
  private void plan(int gpuId, StoredVram.Piece p, boolean strict,
      TreeMap<Long, VramExtent> targets, VaRanges newer, String file, List<Copy> into) {
    if (strict) {
      Copy whole = copy(gpuId, targets, p.va(), p.offset(), p.length(), file); // checks it
      if (newer.isEmpty()) {
        into.add(whole);
        return;
      }
    }
    checkRange(p.va(), p.length(), file, "stored chunk");
    forEachInside(targets, p.va(), p.length(), (x, a, b) -> newer.forEachUncovered(a, b,
        (u, v) -> into.add(copy(gpuId, targets, u, p.offset() + (u - p.va()), v - u, file))));
  }

  /** Whether any stored piece has a part in today's extents that no newer link settled. */
  private static boolean anyToCopy(List<StoredVram.Placed> chunks,
      TreeMap<Long, VramExtent> targets, VaRanges newer, String file) {
    boolean[] any = {false};
    for (StoredVram.Placed c : chunks) {
      for (StoredVram.Piece p : c.pieces()) {
        checkRange(p.va(), p.length(), file, "stored chunk");
        forEachInside(targets, p.va(), p.length(), (x, a, b) -> any[0] |= !newer.covers(a, b));
        if (any[0]) {
          return true;
        }
      }
    }
    return false;
  }

  /** Whether {@code [va, va + length)} lies in {@code x}, {@code va} at or after its start. */
  private static boolean within(VramExtent x, long va, long length) {
    // Differences, not sums: a hostile address near the top must not wrap round.
    return length >= 0 && length <= x.length() && va - x.va() <= x.length() - length;
  }

  /** One piece of a chunk to copy: {@code length} bytes at {@code from} to VRAM offset. */
  private record Copy(VramExtent extent, long from, long vramOffset, long length, boolean byCpu) {}

  /** Where a piece at {@code va} goes; it must lie inside a restored extent of its GPU. */
  private Copy copy(int gpuId, TreeMap<Long, VramExtent> targets, long va, long from,
      long length, String file) {
    var e = targets.floorEntry(va);
    if (e == null || !within(e.getValue(), va, length)) {
      throw new CorruptImageException(file,
          String.format("chunk at va 0x%x (%d bytes) is outside every VRAM buffer of gpu 0x%x",
              va, length, gpuId));
    }
    VramExtent x = e.getValue();
    long offset = x.vramOffset() + (va - x.va());
    if (offset < 0 || offset > x.gpu().vram().capacity() - length) {
      throw new CorruptImageException(file, String.format(
          "chunk at va 0x%x (%d bytes) leaves the VRAM of gpu 0x%x", va, length, gpuId));
    }
    boolean byCpu = mode == CopyMode.CPU || (mode == CopyMode.AUTO && x.cpuReachable());
    if (byCpu && offset + length > x.gpu().vram().visibleBytes()) {
      throw AccrException.failed("kfd: vram-copy=cpu cannot reach VRAM at va 0x%x on gpu"
          + " 0x%x (outside the %d MiB CPU-visible window); use --plugin-opt"
          + " kfd.vram-copy=dma or auto", va, gpuId, x.gpu().vram().visibleBytes() >> 20);
    }
    return new Copy(x, from, offset, length, byCpu);
  }

  /**
   * Starts copying the pieces of one chunk into VRAM: by the CPU at once, or as one batch of
   * SDMA packets on one engine behind one fence, however many pieces the chunk holds. Returns
   * the copy under way; {@code copied} runs once it is done.
   */
  private static BulkReader.Pending copyIn(List<Copy> copies, MemorySegment data,
      AtomicInteger engine, Runnable copied) {
    List<SdmaEngine.CopyPacket> packets = new ArrayList<>(copies.size());
    SdmaEngine sdma = null;
    for (Copy c : copies) {
      Vram vram = c.extent().gpu().vram();
      if (c.byCpu()) {
        vram.copyIn(data, c.from(), c.vramOffset(), c.length());
        continue;
      }
      if (sdma == null) {
        List<SdmaEngine> engines = c.extent().gpu().sdmaEngines();
        sdma = engines.get(Math.floorMod(engine.getAndIncrement(), engines.size()));
      }
      packets.add(() -> vram.copyIn(data, c.from(), c.vramOffset(), c.length()));
    }
    if (sdma == null) {
      copied.run();
      return BulkReader.Pending.DONE;
    }
    return new Fenced(sdma, sdma.submit(packets), copied);
  }

  /** A batch of packets under way on an engine; waiting for it lends the thread to the engine. */
  private record Fenced(SdmaEngine engine, CompletableFuture<Void> fence, Runnable copied)
      implements BulkReader.Pending {
    @Override
    public boolean isDone() {
      return fence.isDone();
    }

    @Override
    public void await() {
      try {
        engine.await(fence);
      } catch (CompletionException ex) {
        throw ex.getCause() instanceof RuntimeException r ? r : ex;
      }
      copied.run();
    }
  }
}
