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

  /**
   * Reads every chunk as {@link #forEach} does, but {@code consumer} may return before it is
   * done with a chunk's data: it starts work on it (a copy by a device engine, say) and returns
   * that work; the reader keeps the data's buffer until the work is done and meanwhile reads,
   * checks and decompresses the next chunks, so the consumer's work overlaps them (API 6).
   * When it needs a buffer back, the reader waits for the oldest work with {@link
   * Pending#await}, which may run the work in the reading thread. Returns once every chunk's
   * work is done; a failed work stops the read with its exception. The consumer itself should
   * be quick: it may be called from the thread that reads the file.
   *
   * <p>The default runs each chunk's work to its end within {@link #forEach}.
   */
  default void forEachAsync(int threads, AsyncChunkConsumer consumer) {
    forEach(threads, (key, data) -> consumer.accept(key, data).await());
  }

  /** Receives one chunk's data. */
  @FunctionalInterface
  interface ChunkConsumer {
    void accept(long key, MemorySegment data);
  }

  /** Receives one chunk's data and returns the work it started on it (API 6). */
  @FunctionalInterface
  interface AsyncChunkConsumer {
    /**
     * Starts work on {@code data}, which stays valid until the returned work is done; returns
     * {@link Pending#DONE} when finished with it already.
     */
    Pending accept(long key, MemorySegment data);
  }

  /** Work under way on a chunk's data, from an {@link AsyncChunkConsumer} (API 6). */
  interface Pending {
    /** No work left: the consumer was done with the data when it returned. */
    Pending DONE = new Pending() {
      @Override
      public boolean isDone() {
        return true;
      }

      @Override
      public void await() {}
    };

    /** Whether the work has ended (done or failed); never blocks. */
    boolean isDone();

    /**
     * Returns once the work has ended, running it in this thread if nobody else has yet;
     * throws what the work failed with.
     */
    void await();
  }

  @Override
  void close();
}
