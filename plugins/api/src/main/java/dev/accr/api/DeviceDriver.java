package dev.accr.api;

/**
 * The simulated driver of one node's devices of a type (the kernel side). It owns device state
 * and device memory and hands processes {@link DeviceFile}s for its device paths.
 */
public interface DeviceDriver extends AutoCloseable {
  /** The device type it drives, as in topology files (e.g. {@code kfd}). */
  String type();

  /** Whether {@code path} is one of its device files. */
  boolean handles(String path);

  /**
   * Opens a device file for a process, like {@code open(2)} on a device node.
   *
   * @throws AccrException if the path names no device of this node
   */
  DeviceFile open(ProcessView process, String path);

  /** Releases all devices (the node shuts down). */
  @Override
  void close();
}
