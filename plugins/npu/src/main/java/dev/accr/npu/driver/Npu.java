package dev.accr.npu.driver;

import dev.accr.api.AccrException;
import dev.accr.proto.Device;

/**
 * One npu of a node: its topology properties, its device path, and how much of its memory the
 * processes that use it hold.
 */
public final class Npu {
  private final Device device;
  private final String path;
  private long usedBytes;

  Npu(Device device, int index) {
    this.device = device;
    this.path = "/dev/npu" + index;
  }

  public Device device() {
    return device;
  }

  public int npuId() {
    return device.getNpuId();
  }

  /** The device file processes open, {@code /dev/npu<index>} in topology order. */
  public String path() {
    return path;
  }

  public synchronized long usedBytes() {
    return usedBytes;
  }

  /** Takes {@code bytes} of device memory, or fails if the npu has not that much left. */
  synchronized void reserve(long bytes) {
    if (bytes > device.getNpuMemoryBytes() - usedBytes) {
      throw AccrException.failed("%s: out of device memory: %d bytes wanted, %d of %d free",
          this, bytes, device.getNpuMemoryBytes() - usedBytes, device.getNpuMemoryBytes());
    }
    usedBytes += bytes;
  }

  synchronized void release(long bytes) {
    usedBytes -= bytes;
  }

  @Override
  public String toString() {
    return String.format("npu %d (%s, %s)", npuId(), device.getNpuChip(), path);
  }
}
