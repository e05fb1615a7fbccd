package dev.accr.plugin;

import dev.accr.api.BulkReader;

/**
 * Bulk files of a restore that are read from another node rather than from the set (the device
 * memory a post-copy migration's source serves).
 */
@FunctionalInterface
public interface RemoteBulk {
  /** The reader of {@code plugin}'s bulk file {@code what}-{@code id}, or null: read the set. */
  BulkReader open(String plugin, String what, long id);
}
