package dev.accr.kfd.plugin;

import dev.accr.api.AccrException;
import dev.accr.kfd.driver.KfdCriu.VramExtent;
import dev.accr.kfd.driver.Vram;
import java.util.ArrayList;
import java.util.List;

/**
 * VRAM extents cut into pieces that never cross a VRAM block, each copied by the CPU or by an
 * SDMA engine, and stored as one chunk keyed by its GPU address; or, {@code packed}, stored
 * back to back in a stream of the extents' bytes (see {@link PackedRuns}), many pieces in one
 * chunk keyed by its stream offset.
 */
record VramPieces(int gpuId, List<Piece> cpu, List<Piece> dma, boolean packed) {
  /** The largest piece, and the size of a staging buffer: one VRAM block. */
  static final int PIECE = (int) Vram.BLOCK;

  /** One chunk's worth of VRAM; {@code packedAt} its stream offset when packed, else -1. */
  record Piece(VramExtent extent, long va, long vramOffset, int length, long packedAt) {}

  /** Splits the extents of one GPU and picks a path for each piece. */
  static VramPieces of(int gpuId, List<VramExtent> extents, CopyMode mode) {
    return of(gpuId, extents, mode, false);
  }

  /**
   * {@link #of(int, List, CopyMode)}; with {@code packed}, each piece's bytes are at their
   * offset in the extents' stream, in the order given.
   */
  static VramPieces of(int gpuId, List<VramExtent> extents, CopyMode mode, boolean packed) {
    List<Piece> cpu = new ArrayList<>();
    List<Piece> dma = new ArrayList<>();
    long stream = 0;
    for (VramExtent e : extents) {
      boolean byCpu = switch (mode) {
        case CPU -> {
          if (!e.cpuReachable()) {
            throw AccrException.failed("kfd: vram-copy=cpu cannot reach VRAM at va 0x%x"
                + " (%d KiB on gpu 0x%x): it lies outside the CPU-visible window of %d MiB;"
                + " use --plugin-opt kfd.vram-copy=dma or auto", e.va(), e.length() >> 10, e.gpuId(),
                e.gpu().vram().visibleBytes() >> 20);
          }
          yield true;
        }
        case AUTO -> e.cpuReachable();
        case DMA -> false;
      };
      long done = 0;
      while (done < e.length()) {
        long offset = e.vramOffset() + done;
        int n = (int) Math.min(e.length() - done, PIECE - offset % PIECE);
        (byCpu ? cpu : dma).add(new Piece(e, e.va() + done, offset, n,
            packed ? stream + done : -1));
        done += n;
      }
      stream += e.length();
    }
    return new VramPieces(gpuId, cpu, dma, packed);
  }

  long bytes() {
    return cpu.stream().mapToLong(Piece::length).sum() + dma.stream().mapToLong(Piece::length).sum();
  }
}
