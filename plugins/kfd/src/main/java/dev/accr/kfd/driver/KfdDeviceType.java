package dev.accr.kfd.driver;

import dev.accr.api.Sizes;
import dev.accr.api.DeviceDriver;
import dev.accr.api.DeviceLabel;
import dev.accr.api.DeviceType;
import dev.accr.api.NodeContext;
import dev.accr.proto.Device;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** The {@code kfd} device type: AMD-style GPUs driven by the simulated KFD driver. */
public final class KfdDeviceType implements DeviceType {
  /** Every field a kfd GPU has, as KFD topology reports it. */
  private static final Set<String> FIELDS = Set.of("gpuId", "gfxTargetVersion", "vendorId",
      "deviceId", "simdCount", "cuCount", "wavefrontSize", "ldsSizeKib", "vramBytes",
      "vramVisibleBytes", "sdmaEngines", "sdmaXgmiEngines", "capability", "fwVersion",
      "sdmaFwVersion", "cachesCount", "numaNode", "drmRenderMinor");

  /**
   * What no GPU can do without. May be zero: XGMI SDMA engines (a PCIe-only GPU), capability
   * bits, firmware versions and cache count (unknown), and the NUMA node (node 0).
   */
  private static final Set<String> REQUIRED = Set.of("gpuId", "gfxTargetVersion", "vendorId",
      "deviceId", "simdCount", "cuCount", "wavefrontSize", "ldsSizeKib", "vramBytes",
      "vramVisibleBytes", "sdmaEngines", "drmRenderMinor");

  @Override
  public String type() {
    return "kfd";
  }

  @Override
  public DeviceDriver attach(NodeContext node, List<Device> devices) {
    return new KfdDriver(node, devices);
  }

  /** {@code gfx90a 64 GiB}; details {@code gfx90a (90010), 104 CUs, 64 GiB VRAM ...}. */
  @Override
  public DeviceLabel label(Device d) {
    String isa = GfxTarget.name(d.getGfxTargetVersion());
    String details = String.format(Locale.ROOT,
        "%s (%d), %d CUs, %s VRAM (%s visible), %d SDMA, numa %d, renderD%d", isa,
        d.getGfxTargetVersion(), d.getCuCount(), Sizes.capacity(d.getVramBytes()),
        Sizes.capacity(d.getVramVisibleBytes()), d.getSdmaEngines(), d.getNumaNode(),
        d.getDrmRenderMinor());
    return new DeviceLabel(d.getGpuId(), isa + " " + Sizes.capacity(d.getVramBytes()), details);
  }

  @Override
  public Set<String> deviceFields() {
    return FIELDS;
  }

  @Override
  public Set<String> requiredDeviceFields() {
    return REQUIRED;
  }

  @Override
  public List<String> presets() {
    return List.of("mi100x1", "mi100x2", "mi250x4", "mi300x8");
  }
}
