package dev.accr.api;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * The device memory of a stopped process, served by chunk to the node it migrates to (API 6,
 * {@code accr migrate --lazy}): the source node keeps the process stopped and asks this for
 * each chunk the target touches or pushes, as CRIU's page server serves host pages. The chunks
 * are those the plugin's bulk files would hold; the target reads them through the same
 * {@link BulkReader} a local lazy restore uses, so the plugin's restore does not change.
 */
public interface DeviceMemoryServer extends AutoCloseable {
  /** One bulk file the dump would have written ({@code <plugin>-<what>-<id>}), by chunk. */
  record BulkFile(String what, long id, List<BulkReader.Chunk> chunks) {}

  /** The bulk files served, each with its chunks (keys, lengths; stored lengths are 0). */
  List<BulkFile> files();

  /**
   * Copies chunk {@code chunk} of file {@code what}-{@code id} into {@code into} (its length).
   * Called from one thread at a time, while the process stays stopped.
   */
  void read(String what, long id, BulkReader.Chunk chunk, MemorySegment into);

  /** Nothing is served any more (the process moved, or the migration failed). */
  @Override
  default void close() {}
}
