package dev.accr.npu.driver;

import dev.accr.api.Sizes;
import dev.accr.api.DeviceDriver;
import dev.accr.api.DeviceLabel;
import dev.accr.api.DeviceType;
import dev.accr.api.NodeContext;
import dev.accr.proto.Device;
import java.util.List;
import java.util.Set;

/** The {@code npu} device type: inference accelerators driven by the simulated npu driver. */
public final class NpuDeviceType implements DeviceType {
  private static final Set<String> FIELDS = Set.of("npuId", "npuChip", "npuMemoryBytes",
      "npuCores", "npuFwVersion");
  /** A firmware version of 0 means unknown; an npu has every other property. */
  private static final Set<String> REQUIRED = Set.of("npuId", "npuChip", "npuMemoryBytes",
      "npuCores");

  @Override
  public String type() {
    return NpuDriver.TYPE;
  }

  @Override
  public DeviceDriver attach(NodeContext node, List<Device> devices) {
    return new NpuDriver(node, devices);
  }

  /** {@code nx2 16 GiB}; details {@code nx2, 16 GiB memory, 8 cores, firmware 12}. */
  @Override
  public DeviceLabel label(Device d) {
    String memory = Sizes.capacity(d.getNpuMemoryBytes());
    return new DeviceLabel(d.getNpuId(), d.getNpuChip() + " " + memory, d.getNpuChip() + ", "
        + memory + " memory, " + d.getNpuCores() + " cores, firmware " + d.getNpuFwVersion());
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
    return List.of("npu4", "npu2-large", "mixed");
  }
}
