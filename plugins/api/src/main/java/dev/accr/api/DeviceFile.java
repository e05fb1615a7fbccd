package dev.accr.api;

import java.security.MessageDigest;

/**
 * An open device file in a process's descriptor table; its driver keeps the device state
 * behind it. Closing it (the process exits or is killed, or a restore fails) releases that
 * state.
 */
public interface DeviceFile extends AutoCloseable {
  /** The device path, e.g. {@code /dev/kfd}. */
  String path();

  /**
   * Adds the state a program's result depends on (device memory, queues, events) to a
   * process digest. Ids the process does not see (physical device ids) must be left out.
   */
  void digest(MessageDigest digest);

  @Override
  void close();
}
