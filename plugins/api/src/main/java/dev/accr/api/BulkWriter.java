package dev.accr.api;

import java.lang.foreign.MemorySegment;

/**
 * Writes device memory into a bulk file as chunks keyed by the plugin's own numbers (e.g. a
 * device address). Safe for several threads at once, and meant for it: each thread compresses,
 * checksums and appends in parallel with the others, up to the image set's
 * {@link PluginImages#parallelism()} (each writes its own pages file, a lane, as the core's
 * memory pages do). Chunks of zeros are not stored.
 */
public interface BulkWriter extends AutoCloseable {
  /** The largest chunk {@link #write} accepts. */
  int MAX_CHUNK = 16 << 20;

  /**
   * Stores {@code data} (at most {@link #MAX_CHUNK} bytes) under {@code key}. The data is
   * copied or compressed before this returns, so the caller may reuse the buffer.
   */
  void write(long key, MemorySegment data);

  /** Bytes given to {@link #write}, and bytes stored after zero skipping and compression. */
  long bytesIn();

  long bytesStored();

  /** Finishes the file (index, footer, sync); a writer not closed leaves no file behind. */
  @Override
  void close();
}
