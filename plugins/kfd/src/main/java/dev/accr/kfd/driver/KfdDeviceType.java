package dev.accr.kfd.driver;

import dev.accr.api.DeviceDriver;
import dev.accr.api.DeviceType;
import dev.accr.api.NodeContext;
import dev.accr.proto.Device;
import java.util.List;

/** The {@code kfd} device type: AMD-style GPUs driven by the simulated KFD driver. */
public final class KfdDeviceType implements DeviceType {
  @Override
  public String type() {
    return "kfd";
  }

  @Override
  public DeviceDriver attach(NodeContext node, List<Device> devices) {
    return new KfdDriver(node, devices);
  }

  @Override
  public List<String> presets() {
    return List.of("mi100x1", "mi100x2", "mi250x4", "mi300x8");
  }
}
