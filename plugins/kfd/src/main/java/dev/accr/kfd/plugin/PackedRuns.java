package dev.accr.kfd.plugin;

import dev.accr.api.CorruptImageException;
import dev.accr.kfd.driver.KfdCriu.VramExtent;
import dev.accr.kfd.proto.KfdVramWritten;
import java.util.Arrays;
import java.util.List;

/**
 * The written VRAM of one GPU in an incremental set of the packed layout: runs of GPU
 * addresses whose bytes follow one another in one stream, the GPU's {@code vram-packed} bulk
 * file (see {@link VramFiles}), keyed by stream offset. Scattered written pages thus share
 * large chunks, written and read as few as a full dump's.
 */
final class PackedRuns {
  private final int gpuId;
  private final long[] va;
  private final long[] length;
  /** Stream offset of each run; one more element: the stream's length. */
  private final long[] at;

  private PackedRuns(int gpuId, long[] va, long[] length) {
    this.gpuId = gpuId;
    this.va = va;
    this.length = length;
    this.at = new long[va.length + 1];
    for (int i = 0; i < va.length; i++) {
      at[i + 1] = at[i] + length[i];
    }
  }

  /** Where a piece of a chunk goes: {@code length} bytes at {@code offset} of the chunk. */
  @FunctionalInterface
  interface PieceSink {
    void accept(long va, long offset, long length);
  }

  /** The entry naming {@code extents} (of one GPU, in stream order) as that GPU's runs. */
  static KfdVramWritten entry(int gpuId, List<VramExtent> extents) {
    KfdVramWritten.Builder b = KfdVramWritten.newBuilder().setGpuId(gpuId).setPacked(true);
    for (VramExtent e : extents) {
      b.addRunVa(e.va());
      b.addRunLength(e.length());
    }
    return b.build();
  }

  /** The runs of a packed entry, checked: {@code file} names the image at fault. */
  static PackedRuns of(KfdVramWritten e, String file) {
    if (e.getRunVaCount() != e.getRunLengthCount()) {
      throw new CorruptImageException(file, String.format("gpu 0x%x: %d run addresses but %d"
          + " run lengths", e.getGpuId(), e.getRunVaCount(), e.getRunLengthCount()));
    }
    long[] va = new long[e.getRunVaCount()];
    long[] length = new long[va.length];
    long total = 0;
    for (int i = 0; i < va.length; i++) {
      va[i] = e.getRunVa(i);
      length[i] = e.getRunLength(i);
      if (length[i] <= 0 || va[i] + length[i] < va[i] || (total += length[i]) < 0) {
        throw new CorruptImageException(file, String.format("gpu 0x%x: run %d (va 0x%x, %d"
            + " bytes) is empty or overflows", e.getGpuId(), i, va[i], length[i]));
      }
    }
    return new PackedRuns(e.getGpuId(), va, length);
  }

  int gpuId() {
    return gpuId;
  }

  int runs() {
    return va.length;
  }

  long va(int run) {
    return va[run];
  }

  long length(int run) {
    return length[run];
  }

  /** Bytes of the stream: the sum of the runs. */
  long streamLength() {
    return at[va.length];
  }

  /**
   * Hands {@code sink} the pieces of the chunk at stream offset {@code key} of {@code n}
   * bytes, one per run it covers, in order; a chunk beyond the stream is corrupt.
   */
  void place(long key, long n, String file, PieceSink sink) {
    if (key < 0 || n < 0 || key + n > streamLength() || key + n < key) {
      throw new CorruptImageException(file, String.format("chunk at stream offset %d (%d"
          + " bytes) lies beyond the %d bytes of written VRAM of gpu 0x%x", key, n,
          streamLength(), gpuId));
    }
    int run = Arrays.binarySearch(at, 0, va.length, key);
    if (run < 0) {
      run = -run - 2; // the run that holds key
    }
    long done = 0;
    while (done < n) {
      while (at[run + 1] <= key + done) {
        run++; // skips runs that end where the piece begins
      }
      long inRun = key + done - at[run];
      long take = Math.min(n - done, length[run] - inRun);
      sink.accept(va[run] + inRun, done, take);
      done += take;
    }
  }
}
