package dev.accr.cli;

import dev.accr.api.DeviceLabel;
import dev.accr.api.DeviceType;
import dev.accr.kernel.Registry;
import dev.accr.proto.Device;
import java.util.function.Function;

/**
 * How text and pictures name a topology's devices: each device type labels its own devices
 * ({@link DeviceType#label}); the core adds the type and prints the id in hex. A device whose
 * type is not installed shows its type alone.
 */
final class DeviceLabels {
  private final Function<String, DeviceType> types;

  DeviceLabels(Function<String, DeviceType> types) {
    this.types = types;
  }

  static DeviceLabels of(Registry registry) {
    return new DeviceLabels(registry::deviceType);
  }

  DeviceLabel label(Device d) {
    DeviceType type = types.apply(d.getType());
    DeviceLabel label = type == null ? null : type.label(d);
    return label != null ? label : new DeviceLabel(0, "", "");
  }

  /** {@code kfd 0x73d3}: the type and the id users name the device by (none if it has none). */
  String name(Device d) {
    int id = label(d).id();
    return id == 0 ? d.getType() : d.getType() + " 0x" + Integer.toHexString(id);
  }

  /** {@code kfd 0x73d3 gfx90a (90010), 104 CUs, ...}: the name and the type's details. */
  String line(Device d) {
    String details = label(d).details();
    return details.isEmpty() ? name(d) : name(d) + " " + details;
  }
}
