package dev.accr.kfd.plugin;

import dev.accr.api.BulkReader;
import dev.accr.api.PluginImages;
import dev.accr.kfd.proto.KfdVramWritten;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The VRAM one set stores for one process and GPU, whichever layout it has: a full set's or an
 * older incremental set's {@code vram} file, whose chunks are keyed by GPU address, or a packed
 * incremental set's {@code vram-packed} file (see {@link PackedRuns}), named as
 * {@link VramFiles} says. Readers see pieces by GPU address either way.
 */
final class StoredVram implements AutoCloseable {
  /** Where {@code length} bytes at {@code offset} of a chunk go. */
  record Piece(long va, long offset, long length) {}

  /** One stored chunk and its pieces. */
  record Placed(BulkReader.Chunk chunk, List<Piece> pieces) {}

  /** Receives one chunk's data (valid during the call) and its pieces. */
  @FunctionalInterface
  interface ChunkConsumer {
    void accept(List<Piece> pieces, MemorySegment data);
  }

  /**
   * Starts work on one chunk's data and its pieces; the data stays valid until the work is
   * done (see {@link BulkReader#forEachAsync}).
   */
  @FunctionalInterface
  interface AsyncChunkConsumer {
    BulkReader.Pending accept(List<Piece> pieces, MemorySegment data);
  }

  /** One written range of an incremental set. */
  record Written(int gpuId, long va, long length) {}

  private final BulkReader reader;
  private final PackedRuns runs;
  private final String file;

  private StoredVram(BulkReader reader, PackedRuns runs, String file) {
    this.reader = reader;
    this.runs = runs;
    this.file = file;
  }

  /** The name of the written-ranges file of {@code pid}. */
  static String writtenFile(long pid) {
    return "kfd-vram-written-" + pid + ".img";
  }

  /** The packed runs of each GPU of an incremental set (none: not packed, or a full set). */
  static Map<Integer, PackedRuns> packed(PluginImages images, long pid) {
    Map<Integer, PackedRuns> out = new TreeMap<>();
    if (images.hasEntries("vram-written", pid)) {
      for (KfdVramWritten w : images.readEntries("vram-written", pid, KfdVramWritten.parser())) {
        if (w.getPacked()) {
          out.put(w.getGpuId(), PackedRuns.of(w, writtenFile(pid)));
        }
      }
    }
    return out;
  }

  /** The ranges an incremental set wrote, in either layout; empty for a full set. */
  static List<Written> written(PluginImages images, long pid) {
    List<Written> out = new ArrayList<>();
    if (!images.hasEntries("vram-written", pid)) {
      return out;
    }
    for (KfdVramWritten w : images.readEntries("vram-written", pid, KfdVramWritten.parser())) {
      if (!w.getPacked()) {
        out.add(new Written(w.getGpuId(), w.getVa(), w.getLength()));
        continue;
      }
      PackedRuns r = PackedRuns.of(w, writtenFile(pid));
      for (int i = 0; i < r.runs(); i++) {
        out.add(new Written(w.getGpuId(), r.va(i), r.length(i)));
      }
    }
    return out;
  }

  /**
   * Opens the VRAM {@code pid} stored for {@code gpuId} (named as {@link VramFiles#of} says):
   * packed when {@code packed} (from {@link #packed}) has runs for it.
   */
  static StoredVram open(PluginImages images, long pid, int gpuId,
      Map<Integer, PackedRuns> packed) {
    PackedRuns r = packed.get(gpuId);
    String what = VramFiles.of(images, pid).what(r != null);
    return new StoredVram(images.openBulk(what, gpuId), r, VramFiles.indexFile(what, gpuId));
  }

  /** The file named in errors about the chunks. */
  String file() {
    return file;
  }

  BulkReader reader() {
    return reader;
  }

  /** The pieces of one chunk. */
  List<Piece> pieces(long key, long length) {
    if (runs == null) {
      return List.of(new Piece(key, 0, length));
    }
    List<Piece> out = new ArrayList<>();
    runs.place(key, length, file, (va, offset, n) -> out.add(new Piece(va, offset, n)));
    return out;
  }

  /** Every chunk with its pieces (nothing is read). */
  List<Placed> chunks() {
    List<Placed> out = new ArrayList<>();
    for (BulkReader.Chunk c : reader.chunks()) {
      out.add(new Placed(c, pieces(c.key(), c.length())));
    }
    return out;
  }

  /** Reads every chunk, checked, from {@code threads} threads (see {@link BulkReader#forEach}). */
  void forEach(int threads, ChunkConsumer consumer) {
    reader.forEach(threads, (key, data) -> consumer.accept(pieces(key, data.byteSize()), data));
  }

  /**
   * Reads every chunk, checked, from {@code threads} threads, while the consumer's work on the
   * chunks before goes on (see {@link BulkReader#forEachAsync}).
   */
  void forEachAsync(int threads, AsyncChunkConsumer consumer) {
    reader.forEachAsync(threads,
        (key, data) -> consumer.accept(pieces(key, data.byteSize()), data));
  }

  @Override
  public void close() {
    reader.close();
  }
}
