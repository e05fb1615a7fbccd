package dev.accr.npu.driver;

import dev.accr.api.DeviceDriver;
import dev.accr.api.DeviceType;
import dev.accr.api.NodeContext;
import dev.accr.proto.Device;
import java.util.List;

/** The {@code npu} device type: inference accelerators driven by the simulated npu driver. */
public final class NpuDeviceType implements DeviceType {
  @Override
  public String type() {
    return NpuDriver.TYPE;
  }

  @Override
  public DeviceDriver attach(NodeContext node, List<Device> devices) {
    return new NpuDriver(node, devices);
  }

  @Override
  public List<String> presets() {
    return List.of("npu4", "npu2-large", "mixed");
  }
}
