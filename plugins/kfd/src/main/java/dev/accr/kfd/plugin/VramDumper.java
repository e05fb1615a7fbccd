package dev.accr.kfd.plugin;

import dev.accr.api.AccrException;
import dev.accr.api.BulkWriter;
import dev.accr.api.PluginContext;
import dev.accr.kfd.driver.SdmaEngine;
import dev.accr.kfd.driver.Vram;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Saves a process's VRAM into one bulk file per GPU (named by {@link VramFiles}; written in
 * parallel lanes by the host). The DMA path runs every SDMA engine of every GPU at once: each
 * writer thread keeps several pieces in flight (two, or more when there are more engines than
 * that), taking GPUs and their engines in turn. A piece is one staging buffer, copied by a batch of
 * packets (one per stored chunk); while engines copy the next pieces, the writer compresses and
 * writes the oldest, then hands its buffer back. Copies thus overlap compression and I/O within the
 * staging budget, and only a few buffers are in use at once, so they stay in cache. A writer
 * waiting for a copy the engine has not started runs it itself (see {@link SdmaEngine#await}). CPU
 * pieces go straight from the visible window to the file, or, while the process runs, through a
 * staging buffer (a chunk is checksummed and written from one copy that no store changes
 * meanwhile). Packed pieces (an incremental dump's scattered written pages, see {@link PackedRuns})
 * that share a buffer are written as shared chunks, so a dump of many small pieces costs about as
 * many chunks, engine round trips and index entries as a full dump of their bytes.
 */
final class VramDumper {
  /**
   * Stored chunk size, as the core's memory pages: a writer's passes over a chunk (zero check,
   * checksums, write) then stay within a core's cache.
   */
  private static final int CHUNK = 1 << 20;

  private final PluginContext ctx;
  /** The names of the process's files. */
  private final VramFiles files;
  private final StagingPool staging;
  /** The process runs: buffers may be written or freed under the copy. */
  private final boolean running;
  private final AtomicLong done = new AtomicLong();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private final AtomicInteger turn = new AtomicInteger();
  /** Pieces each writer keeps in flight: two at least, and enough to busy every engine. */
  private int depth;
  private long total;
  private List<Gpu> gpus;

  VramDumper(PluginContext ctx, long pid, StagingPool staging, boolean running) {
    this.ctx = ctx;
    this.files = VramFiles.forDump(pid);
    this.staging = staging;
    this.running = running;
  }

  /**
   * One GPU's share: its pieces by path (CPU pieces in batches too when packed, else one by
   * one), its engines taken in turn, and its file.
   */
  private record Gpu(List<List<VramPieces.Piece>> dma, AtomicInteger nextDma,
      List<List<VramPieces.Piece>> cpu, AtomicInteger nextCpu, List<SdmaEngine> engines,
      AtomicInteger nextEngine, BulkWriter out) {

    SdmaEngine engine() {
      return engines.get(Math.floorMod(nextEngine.getAndIncrement(), engines.size()));
    }
  }

  /**
   * Pieces being copied by an engine into one staging buffer, one after the other: a batch of
   * copy packets, one per stored chunk, behind one fence. Small pieces (the scattered pages of
   * an incremental dump) share a buffer, so they cost one round trip to the engine together.
   */
  private record Copy(Gpu gpu, SdmaEngine engine, List<VramPieces.Piece> pieces,
      MemorySegment buffer, CompletableFuture<Void> fence) {}

  /** Dumps every GPU's pieces; returns bytes stored. */
  long dump(List<VramPieces> pieces) {
    total = pieces.stream().mapToLong(VramPieces::bytes).sum();
    gpus = new ArrayList<>();
    int writers = Math.max(1, ctx.images().parallelism());
    try (ExecutorService pool = Executors.newFixedThreadPool(writers,
        Thread.ofPlatform().name("kfd-vram-write-", 0).daemon().factory())) {
      for (VramPieces g : pieces) {
        BulkWriter out = ctx.images().createBulk(files.what(g.packed()), g.gpuId());
        List<SdmaEngine> engines = g.dma().isEmpty() ? List.of()
            : g.dma().getFirst().extent().gpu().sdmaEngines();
        List<List<VramPieces.Piece>> cpu = g.packed() ? batches(g.cpu())
            : g.cpu().stream().map(List::of).toList();
        gpus.add(new Gpu(batches(g.dma()), new AtomicInteger(), cpu, new AtomicInteger(),
            engines, new AtomicInteger(), out));
      }
      int engines = gpus.stream().mapToInt(g -> g.engines().size()).sum();
      depth = Math.max(2, Math.ceilDiv(engines, writers));
      List<Future<?>> running = new ArrayList<>();
      for (int i = 0; i < writers; i++) {
        running.add(pool.submit(() -> guarded(() -> {
          copyAndWrite();
          writeCpuPieces();
        })));
      }
      try {
        for (Future<?> f : running) {
          f.get();
        }
      } catch (InterruptedException e) {
        failure.compareAndSet(null, e); // writers stop after the pieces in flight
        Thread.currentThread().interrupt();
      }
    } catch (ExecutionException e) {
      failure.compareAndSet(null, e.getCause());
    }
    rethrow();
    long stored = 0;
    for (Gpu g : gpus) {
      g.out().close();
      stored += g.out().bytesStored();
    }
    return stored;
  }

  /**
   * One writer's DMA loop: it keeps up to {@link #depth} pieces in flight (submitting more while
   * staging buffers are free) and finishes the oldest, so engines copy while the writer writes.
   */
  private void copyAndWrite() throws InterruptedException {
    ArrayDeque<Copy> inFlight = new ArrayDeque<>(depth);
    try {
      while (failure.get() == null) {
        while (inFlight.size() < depth) {
          Copy next = nextCopy(inFlight.isEmpty());
          if (next == null) {
            break;
          }
          inFlight.addLast(next);
        }
        if (inFlight.isEmpty()) {
          return;
        }
        finish(inFlight.removeFirst());
      }
    } finally {
      inFlight.forEach(this::abandon);
    }
  }

  /**
   * Submits the copy of the next piece of the next GPU that has pieces left, or returns null
   * when none is left or (unless {@code wait}) no staging buffer is free. A writer waits for a
   * buffer only when it holds none, so writers cannot wait on each other.
   */
  private Copy nextCopy(boolean wait) throws InterruptedException {
    MemorySegment buffer = wait ? staging.take() : staging.poll();
    if (buffer == null) {
      return null;
    }
    int start = turn.getAndIncrement();
    for (int i = 0; i < gpus.size(); i++) {
      Gpu g = gpus.get(Math.floorMod(start + i, gpus.size()));
      int index = g.nextDma().getAndIncrement();
      if (index >= g.dma().size()) {
        continue;
      }
      List<VramPieces.Piece> batch = g.dma().get(index);
      List<SdmaEngine.CopyPacket> packets = new ArrayList<>();
      int into = 0;
      for (VramPieces.Piece p : batch) {
        Vram vram = p.extent().gpu().vram();
        for (int at = 0; at < p.length(); at += CHUNK) {
          long from = p.vramOffset() + at;
          int to = into + at;
          int n = Math.min(CHUNK, p.length() - at);
          packets.add(running
              ? () -> vram.copyOutRunning(from, buffer, to, n)
              : () -> vram.copyOut(from, buffer, to, n));
        }
        into += p.length();
      }
      SdmaEngine engine = g.engine();
      return new Copy(g, engine, batch, buffer, engine.submit(packets));
    }
    staging.give(buffer);
    return null;
  }

  /**
   * Waits for a piece's copy, lending this thread to the engine meanwhile (see {@link
   * SdmaEngine#await}), writes it, and gives its buffer back.
   */
  private void finish(Copy c) {
    try {
      c.engine().await(c.fence());
      writeBatch(c.gpu().out(), c.pieces(), c.buffer());
    } finally {
      staging.give(c.buffer());
    }
  }

  /**
   * After a failure: waits for a copy still in flight (its engine writes into the buffer) and
   * gives the buffer back; its outcome no longer matters.
   */
  private void abandon(Copy c) {
    if (c == null) {
      return;
    }
    try {
      c.engine().await(c.fence());
    } catch (RuntimeException e) {
      failure.compareAndSet(null, e);
    } finally {
      staging.give(c.buffer());
    }
  }

  /** Consecutive pieces grouped so that each group fills at most one staging buffer. */
  private static List<List<VramPieces.Piece>> batches(List<VramPieces.Piece> pieces) {
    List<List<VramPieces.Piece>> out = new ArrayList<>();
    List<VramPieces.Piece> batch = new ArrayList<>();
    long bytes = 0;
    for (VramPieces.Piece p : pieces) {
      if (bytes + p.length() > VramPieces.PIECE && !batch.isEmpty()) {
        out.add(batch);
        batch = new ArrayList<>();
        bytes = 0;
      }
      batch.add(p);
      bytes += p.length();
    }
    if (!batch.isEmpty()) {
      out.add(batch);
    }
    return out;
  }

  /**
   * Writes the pieces of a batch, back to back in {@code buffer}: each as its own chunks keyed
   * by GPU address, or, packed, every run of pieces that follow one another in the stream as
   * shared chunks keyed by stream offset.
   */
  private void writeBatch(BulkWriter out, List<VramPieces.Piece> pieces, MemorySegment buffer) {
    int at = 0;
    for (int i = 0; i < pieces.size(); ) {
      VramPieces.Piece first = pieces.get(i);
      int length = first.length();
      i++;
      if (first.packedAt() < 0) {
        write(out, first.va(), buffer.asSlice(at, length), length);
      } else {
        while (i < pieces.size() && pieces.get(i).packedAt() == first.packedAt() + length) {
          length += pieces.get(i++).length();
        }
        write(out, first.packedAt(), buffer.asSlice(at, length), length);
      }
      at += length;
    }
  }

  private void writeCpuPieces() throws InterruptedException {
    for (Gpu g : gpus) {
      int i;
      while ((i = g.nextCpu().getAndIncrement()) < g.cpu().size() && failure.get() == null) {
        List<VramPieces.Piece> batch = g.cpu().get(i);
        VramPieces.Piece p = batch.getFirst();
        Vram vram = p.extent().gpu().vram();
        if (!running && p.packedAt() < 0) {
          write(g.out(), p.va(), vram.forRead(p.vramOffset(), p.length()), p.length());
          continue;
        }
        // Through a staging buffer: a chunk is written from one copy that no store changes,
        // and packed pieces are gathered into shared chunks.
        MemorySegment buffer = staging.take();
        try {
          int at = 0;
          for (VramPieces.Piece q : batch) {
            Vram from = q.extent().gpu().vram();
            if (running) {
              from.copyOutRunning(q.vramOffset(), buffer, at, q.length());
            } else {
              from.copyOut(q.vramOffset(), buffer, at, q.length());
            }
            at += q.length();
          }
          writeBatch(g.out(), batch, buffer);
        } finally {
          staging.give(buffer);
        }
      }
    }
  }

  private void write(BulkWriter out, long va, MemorySegment data, int length) {
    for (int at = 0; at < length; at += CHUNK) {
      int n = Math.min(CHUNK, length - at);
      out.write(va + at, data.asSlice(at, n));
      ctx.progress("vram", done.addAndGet(n), total);
    }
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
    if (t instanceof IllegalStateException e) { // a freed buffer's memory (see Vram)
      throw AccrException.failed("kfd: VRAM dump failed: a buffer was freed while it was read"
          + " (%s)", e.getMessage());
    }
    if (t instanceof RuntimeException r) {
      throw r;
    }
    if (t instanceof InterruptedException) {
      throw AccrException.failed("kfd: VRAM dump interrupted");
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
