package dev.accr.kfd.driver;

import dev.accr.api.DeviceFile;
import java.security.MessageDigest;

/**
 * An open render node ({@code /dev/dri/renderD<minor>}) of one GPU. Programs open one per GPU
 * they use, as the ROCm runtime does; it carries no state of its own.
 */
public final class RenderNode implements DeviceFile {
  private final Gpu gpu;

  RenderNode(Gpu gpu) {
    this.gpu = gpu;
  }

  @Override
  public String path() {
    return gpu.renderPath();
  }

  /** The GPU's physical id on this node. */
  public int physicalGpuId() {
    return gpu.gpuId();
  }

  @Override
  public void digest(MessageDigest digest) {
    // Which render node a descriptor names is a node detail, not program state.
  }

  @Override
  public void close() {}
}
