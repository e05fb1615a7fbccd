package dev.accr.api;

/**
 * What the host gives a plugin during one dump, pre-dump or restore: the node, the image set
 * being written or read, the user's options, and a slot for the plugin's own state.
 */
public interface PluginContext {
  /** Which operation is running. */
  AccrPlugin.Stage stage();

  /** The node the operation runs on. */
  NodeContext node();

  /** The image set: writable during a dump, readable during a restore. */
  PluginImages images();

  /**
   * An option given for this plugin ({@code --plugin-opt NAME=VALUE}, where NAME is the plugin
   * name, a dot and the option), or {@code fallback}.
   */
  String option(String name, String fallback);

  /**
   * Restore and map: the forced pairs and relaxed checks of the device mapping
   * ({@link MappingPolicy#STRICT} otherwise).
   */
  MappingPolicy mappingPolicy();

  /** Dump: whether the process keeps running afterwards ({@code --leave-running}). */
  boolean leaveRunning();

  /**
   * Reports progress of a long phase (bytes or items done of a total). Throws (an
   * {@link AccrException}) when the operation is cancelled: the hook should let it pass, and
   * the operation fails through its rollback.
   */
  void progress(String phase, long done, long total);

  /**
   * Whether the operation was cancelled ({@code node stop --force}): a step that waits (on a
   * device, a fence, a queue) should ask this now and then and give up by throwing an
   * {@link AccrException}. Bulk reads and writes of {@link #images()} give up on their own.
   * Added in API 4 as a default method (older hosts never cancel).
   */
  default boolean cancelled() {
    return false;
  }

  /**
   * The lazy restore in progress, for a plugin whose {@link AccrPlugin#restoresLazily} is true;
   * null for every other operation and plugin (API 6): the plugin then restores eagerly.
   */
  default LazyRestoreHost lazyRestore() {
    return null;
  }

  /**
   * Dump for a post-copy migration, for a plugin whose {@link AccrPlugin#servesDeviceMemory}
   * is true (API 6): write the device state but no bulk files of device memory; the host
   * serves it later through {@link AccrPlugin#serveDeviceMemory}. In a pre-dump (API 6), a
   * migration's probe before anything is stopped: write what a device mapping reads, no
   * device memory, and leave write tracking as it was. False otherwise.
   */
  default boolean memoryServedLater() {
    return false;
  }

  /**
   * Restore: the device memory the calling plugin loaded ahead ({@link
   * AccrPlugin#stageDeviceMemory}) for this restore, or null when there is none (API 6). The
   * plugin takes what matches the chain it restores and reads the rest from the images.
   */
  default DeviceStage deviceStage() {
    return null;
  }

  /** Keeps per-operation state of the calling plugin. */
  void attach(Object state);

  /** What the calling plugin attached, or null. */
  <T> T attachment(Class<T> type);
}
