package dev.accr.api;

import dev.accr.proto.Device;
import java.util.List;
import java.util.Set;

/**
 * A device type: found through {@link java.util.ServiceLoader}, it creates the driver for the
 * devices of a node's topology whose {@code type} it names.
 */
public interface DeviceType {
  /** The type name used in topology files. */
  String type();

  /** Creates the driver of a node's devices of this type. */
  DeviceDriver attach(NodeContext node, List<Device> devices);

  /**
   * How tools show one of this type's devices (API version 4). The default shows no id and no
   * properties.
   */
  default DeviceLabel label(Device device) {
    return new DeviceLabel(0, "", "");
  }

  /**
   * The fields of {@code Device} (their JSON names, e.g. {@code gpuId}) that devices of this
   * type use (API version 4): {@code accr topology show --json} prints them even when zero, so
   * the file can be edited and fed back, and leaves the other types' fields out.
   */
  default Set<String> deviceFields() {
    return Set.of();
  }

  /**
   * The fields of {@link #deviceFields} a topology file must give a non-zero value (API
   * version 4); a file without one is refused with exit code 2 naming the field.
   */
  default Set<String> requiredDeviceFields() {
    return Set.of();
  }

  /**
   * Topology presets shipped with this device type, by name; each a resource in the JSON form
   * of {@code Topology}. Default: none.
   */
  default List<String> presets() {
    return List.of();
  }
}
