package dev.accr.api;

/**
 * Where a plugin keeps device memory it loaded ahead of a restore (API 6): the target of a
 * pre-copy migration hands each round to {@link AccrPlugin#stageDeviceMemory} as it arrives,
 * while the process still runs on the source, and the restore after the stop finds the same
 * stage through {@link PluginContext#deviceStage}, so that it reads only what the rounds did
 * not bring. One stage per plugin and migration; the host closes what it holds when the
 * migration ends, however it ends (restored, failed, or its source gone).
 */
public interface DeviceStage {
  /** What the plugin keeps here, or null. */
  AutoCloseable state();

  /** Keeps {@code state} here (the one kept before is the plugin's to close or reuse). */
  void keep(AutoCloseable state);
}
