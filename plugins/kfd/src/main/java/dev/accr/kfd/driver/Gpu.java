package dev.accr.kfd.driver;

import dev.accr.proto.Device;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * One GPU of a node: its topology properties, its VRAM and allocator, its SDMA engines, and
 * the topology nodes it has a direct link to (peer access needs one).
 */
public final class Gpu implements AutoCloseable {
  private final Device device;
  private final Vram vram;
  private final VramAllocator allocator;
  private final List<SdmaEngine> engines = new ArrayList<>();
  private final Set<Integer> linkedNodes;
  private final Set<Integer> xgmiNodes;

  Gpu(Device device, Set<Integer> linkedNodes, Set<Integer> xgmiNodes) {
    this.device = device;
    this.vram = new Vram(device.getVramBytes(), device.getVramVisibleBytes());
    this.allocator = new VramAllocator(vram.capacity(), vram.visibleBytes());
    this.linkedNodes = Set.copyOf(linkedNodes);
    this.xgmiNodes = Set.copyOf(xgmiNodes);
    int n = Math.max(1, device.getSdmaEngines());
    for (int i = 0; i < n; i++) {
      engines.add(new SdmaEngine("sdma-" + device.getGpuId() + "-" + i));
    }
  }

  public Device device() {
    return device;
  }

  /** The physical id of this GPU on its node. */
  public int gpuId() {
    return device.getGpuId();
  }

  public String renderPath() {
    return "/dev/dri/renderD" + device.getDrmRenderMinor();
  }

  public Vram vram() {
    return vram;
  }

  VramAllocator allocator() {
    return allocator;
  }

  public List<SdmaEngine> sdmaEngines() {
    return engines;
  }

  /** Whether a kernel on this GPU may access {@code other}'s VRAM (a direct link). */
  public boolean canReach(Gpu other) {
    return other == this || linkedNodes.contains(other.device.getNode());
  }

  /** Whether {@code other} is in this GPU's XGMI hive (directly linked by XGMI). */
  public boolean sameHive(Gpu other) {
    return other == this || xgmiNodes.contains(other.device.getNode());
  }

  @Override
  public void close() {
    for (SdmaEngine e : engines) {
      e.close();
    }
    vram.close();
  }

  @Override
  public String toString() {
    return String.format("0x%x", gpuId());
  }
}
