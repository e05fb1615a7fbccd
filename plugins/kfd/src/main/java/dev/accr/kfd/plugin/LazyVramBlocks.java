package dev.accr.kfd.plugin;

import dev.accr.api.BulkReader;
import dev.accr.api.CorruptImageException;
import dev.accr.api.PluginContext;
import dev.accr.kfd.driver.Gpu;
import dev.accr.kfd.driver.KfdCriu.VramExtent;
import dev.accr.kfd.driver.Vram;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The 2 MiB VRAM blocks that a lazily restored process's stored chunks land in ({@link
 * LazyVram}'s units): the readers are opened at once, one per GPU, but the blocks are listed
 * only when first asked for ({@link #list}), whichever thread asks first, as nothing before the
 * process runs needs them.
 */
final class LazyVramBlocks {
  /** One block to load: the chunks of the images that land in it. */
  record Unit(GpuBlocks gpu, int block, List<Piece> pieces) {}

  /**
   * A piece of a chunk ({@code length} bytes at {@code offsetInChunk}; the whole chunk in a
   * full set) and where it goes inside its block.
   */
  record Piece(BulkReader.Chunk chunk, long offsetInChunk, long length, long offsetInBlock) {
    boolean wholeChunk() {
      return offsetInChunk == 0 && length == chunk.length();
    }
  }

  /** One GPU's reader, VRAM and blocks to load (filled in when the blocks are listed). */
  record GpuBlocks(int gpuId, Vram vram, BulkReader reader, Map<Integer, Integer> units) {}

  /** A GPU's stored VRAM and the process's extents on it, whose blocks are not listed yet. */
  private record Unlisted(GpuBlocks gpu, StoredVram stored, TreeMap<Long, VramExtent> targets) {}

  private final List<Unit> units = new ArrayList<>();
  private final List<GpuBlocks> gpus = new ArrayList<>();
  private final List<Unlisted> unlisted = new ArrayList<>();
  private volatile boolean listed;
  private RuntimeException listingFailed;

  /**
   * Opens the stored VRAM of process {@code pid} on {@code gpuIds}, to land in {@code
   * extents}; a GPU without extents must store nothing.
   *
   * @throws CorruptImageException a damaged index, or chunks of a GPU without VRAM buffers (no
   *     reader is left open)
   */
  LazyVramBlocks(PluginContext ctx, int pid, List<Integer> gpuIds, List<VramExtent> extents) {
    Map<Integer, TreeMap<Long, VramExtent>> byGpu = new TreeMap<>();
    Map<Integer, Gpu> gpuOf = new TreeMap<>();
    for (VramExtent e : extents) {
      byGpu.computeIfAbsent(e.gpuId(), g -> new TreeMap<>()).put(e.va(), e);
      gpuOf.put(e.gpuId(), e.gpu());
    }
    Map<Integer, PackedRuns> packed = StoredVram.packed(ctx.images(), pid);
    List<StoredVram> opened = new ArrayList<>();
    try {
      for (int gpuId : gpuIds) {
        StoredVram stored = StoredVram.open(ctx.images(), pid, gpuId, packed);
        opened.add(stored);
        Gpu gpu = gpuOf.get(gpuId);
        if (gpu == null) {
          if (!stored.reader().chunks().isEmpty()) {
            throw outside(stored.file(), gpuId, stored.chunks().getFirst().pieces().getFirst());
          }
          opened.remove(stored);
          stored.close();
          continue;
        }
        GpuBlocks g = new GpuBlocks(gpuId, gpu.vram(), stored.reader(), new TreeMap<>());
        gpus.add(g);
        unlisted.add(new Unlisted(g, stored, byGpu.getOrDefault(gpuId, new TreeMap<>())));
      }
    } catch (RuntimeException e) {
      // A damaged image: nothing is restored, and no reader stays open.
      for (StoredVram r : opened) {
        try {
          r.close();
        } catch (RuntimeException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e;
    }
  }

  /** The GPUs that have VRAM buffers, each with its reader. */
  List<GpuBlocks> gpus() {
    return gpus;
  }

  /**
   * The blocks to load, listed on the first call.
   *
   * @throws CorruptImageException a chunk outside the process's VRAM or across a block (again
   *     on every later call)
   */
  List<Unit> list() {
    if (listed) {
      return units;
    }
    synchronized (this) {
      if (listed) {
        return units;
      }
      if (listingFailed != null) {
        throw listingFailed;
      }
      try {
        for (Unlisted u : unlisted) {
          addBlocks(u.gpu(), u.stored(), u.targets());
        }
      } catch (RuntimeException e) {
        listingFailed = e;
        throw e;
      }
      listed = true;
      return units;
    }
  }

  /** Lists the blocks of one GPU that the stored chunks' pieces land in. */
  private void addBlocks(GpuBlocks g, StoredVram stored, TreeMap<Long, VramExtent> targets) {
    int gpuId = g.gpuId();
    Map<Integer, List<Piece>> pieces = new TreeMap<>();
    for (StoredVram.Placed c : stored.chunks()) {
      for (StoredVram.Piece p : c.pieces()) {
        var e = targets.floorEntry(p.va());
        if (e == null || p.va() + p.length() > e.getValue().va() + e.getValue().length()) {
          throw outside(stored.file(), gpuId, p);
        }
        long offset = e.getValue().vramOffset() + (p.va() - e.getValue().va());
        int block = (int) (offset / Vram.BLOCK);
        if ((offset + p.length() - 1) / Vram.BLOCK != block) {
          throw new CorruptImageException(stored.file(),
              String.format("chunk at va 0x%x crosses a VRAM block", p.va()));
        }
        pieces.computeIfAbsent(block, b -> new ArrayList<>())
            .add(new Piece(c.chunk(), p.offset(), p.length(), offset % Vram.BLOCK));
      }
    }
    for (var p : pieces.entrySet()) {
      g.units().put(p.getKey(), units.size());
      units.add(new Unit(g, p.getKey(), p.getValue()));
    }
  }

  private static CorruptImageException outside(String file, int gpuId, StoredVram.Piece p) {
    return new CorruptImageException(file,
        String.format("chunk at va 0x%x (%d bytes) is outside every VRAM buffer of gpu 0x%x",
            p.va(), p.length(), gpuId));
  }
}
