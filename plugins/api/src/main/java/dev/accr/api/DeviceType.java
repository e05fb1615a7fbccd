package dev.accr.api;

import java.util.List;

/**
 * A device type: found through {@link java.util.ServiceLoader}, it creates the driver for the
 * devices of a node's topology whose {@code type} it names.
 */
public interface DeviceType {
  /** The type name used in topology files. */
  String type();

  /** Creates the driver of a node's devices of this type. */
  DeviceDriver attach(NodeContext node, List<dev.accr.proto.Device> devices);

  /**
   * Topology presets shipped with this device type, by name; each a resource in the JSON form
   * of {@code Topology}. Default: none.
   */
  default List<String> presets() {
    return List.of();
  }
}
