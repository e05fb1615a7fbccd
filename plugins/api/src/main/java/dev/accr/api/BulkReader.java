package dev.accr.api;

import java.lang.foreign.MemorySegment;
import java.util.List;

/** Reads a bulk file written by {@link BulkWriter}: chunks by key, checked as they are read. */
public interface BulkReader extends AutoCloseable {
  /**
   * One stored chunk: its key, its length once decompressed, and the bytes it takes in the
   * file (API version 4; 0 where unknown).
   */
  record Chunk(long key, int length, int storedLength) {
    public Chunk(long key, int length) {
      this(key, length, 0);
    }
  }

  /** The stored chunks in the order they were written (zero chunks were not stored). */
  List<Chunk> chunks();

  /**
   * Reads every chunk, verifying its checksum, and hands it to {@code consumer} from
   * {@code threads} threads at once. The segment is valid only during the call. A damaged
   * chunk stops the read with a {@link CorruptImageException}.
   */
  void forEach(int threads, ChunkConsumer consumer);

  /**
   * Reads one chunk of {@link #chunks()} into {@code into} (its raw length), verifying its
   * checksum, without reading the others: what a lazy restore does on a fault (API 6). A reader
   * that cannot seek throws {@link UnsupportedOperationException}.
   */
  default void read(Chunk chunk, MemorySegment into) {
    throw new UnsupportedOperationException("this bulk reader reads its chunks in order only");
  }

  /** Receives one chunk's data. */
  @FunctionalInterface
  interface ChunkConsumer {
    void accept(long key, MemorySegment data);
  }

  @Override
  void close();
}
