package dev.accr.api;

import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import java.util.List;

/**
 * The image set as a plugin writes and reads it. Files are named
 * {@code <plugin>-<what>-<id>.img}; the host frames them (header with the set's id, checksummed
 * footer), so a plugin never handles raw file layout, and a damaged file is reported with exit
 * code 3 naming it.
 *
 * <p>Two kinds of file: <em>entries</em>, a list of protobuf messages for structured state
 * (shown by {@code accr show}), and <em>bulk</em> data (device memory) in independently
 * compressed, checksummed chunks written and read by several threads at once.
 *
 * <p>{@code what} is lowercase letters, digits and dashes; {@code id} a non-negative number
 * (a device id, a pid).
 */
public interface PluginImages {
  /** Writes an entries file. A dump may write each file once. */
  void writeEntries(String what, long id, List<? extends MessageLite> entries);

  /**
   * Reads an entries file written by {@link #writeEntries}.
   *
   * @throws CorruptImageException if it is missing, damaged or does not parse
   */
  <T extends MessageLite> List<T> readEntries(String what, long id, Parser<T> parser);

  /** Whether the set has that entries file. */
  boolean hasEntries(String what, long id);

  /**
   * The ids of the set's entries files named {@code what}, in ascending order: during restore
   * and {@code accr topology map}, where no process is at hand, the pids a plugin saved
   * entries for (API version 3).
   */
  List<Long> entryIds(String what);

  /** Creates a bulk file; close the writer to finish it. */
  BulkWriter createBulk(String what, long id);

  /**
   * Opens a bulk file for reading; its index is read and checked now, its data when read.
   *
   * @throws CorruptImageException if it is missing or its index is damaged
   */
  BulkReader openBulk(String what, long id);

  /** How many threads the user gave the operation; a sensible width for parallel copies. */
  int parallelism();

  /**
   * The parent set of an incremental set, read-only, or null (API version 5). While dumping
   * it is the set the dump stores the changes against; while restoring or reading, the
   * parent of this set, whose own {@code parent()} leads on up the chain (already verified
   * by the host: each link exists, is of the same process and has the id its child names).
   */
  default PluginImages parent() {
    return null;
  }

  /**
   * The checkpoint id of this set, 32 hex digits (API version 5): a plugin that tracks
   * writes labels its tracking period with the id of the set that began it, and stores only
   * the changes when the parent of a dump is that set.
   */
  default String checkpointId() {
    return "";
  }
}
