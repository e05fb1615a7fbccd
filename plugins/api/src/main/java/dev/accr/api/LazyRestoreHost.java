package dev.accr.api;

/**
 * The host's side of a lazy restore ({@code accr restore --lazy}, {@code accr migrate --lazy}),
 * given by {@link PluginContext#lazyRestore} to a plugin whose {@link
 * AccrPlugin#restoresLazily} is true (API 6). Instead of loading its device memory in {@link
 * AccrPlugin#restoreExtFile}, such a plugin recreates the buffers empty, arranges for the
 * device's first touch of a unit to load it, and hands the host a {@link LazyDeviceMemory},
 * which the host pushes in the background while the process runs.
 */
public interface LazyRestoreHost {
  /**
   * Whether every chunk is to be read and checked before the process runs (the default of
   * {@code restore --lazy}): a plugin then reads its bulk files once now, keeping nothing, so
   * that damage is exit 3 and not a process killed later.
   */
  boolean checkFirst();

  /** Registers device memory to push in the background once the process runs. */
  void add(LazyDeviceMemory memory);

  /**
   * Reports that a unit could not be loaded on a fault where no exception reaches the process
   * (a device engine's thread): the host kills the process with {@code reason}.
   */
  void failed(String reason);
}
