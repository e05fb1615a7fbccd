package dev.accr.kernel;

import dev.accr.api.AccrException;
import dev.accr.api.DeviceDriver;
import dev.accr.api.DeviceType;
import dev.accr.api.NodeContext;
import dev.accr.proto.Device;
import dev.accr.proto.Topology;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The drivers of a node's devices: one per device type of its topology, attached when the
 * node is built (exit code 4 when a type has no driver installed) and closed with it.
 */
final class NodeDrivers {
  private final String nodeName;
  private final Map<String, DeviceDriver> drivers;

  NodeDrivers(NodeContext node, Topology topology, Registry registry) {
    this.nodeName = node.name();
    Map<String, List<Device>> byType = new LinkedHashMap<>();
    for (Device d : topology.getDevicesList()) {
      byType.computeIfAbsent(d.getType(), t -> new ArrayList<>()).add(d);
    }
    Map<String, DeviceDriver> attached = new LinkedHashMap<>();
    for (var e : byType.entrySet()) {
      DeviceType type = registry.deviceType(e.getKey());
      if (type == null) {
        throw AccrException.incompatible("node %s: no driver for device type '%s' is installed"
            + " (installed: %s)", nodeName, e.getKey(), installedTypes(registry));
      }
      attached.put(e.getKey(), type.attach(node, List.copyOf(e.getValue())));
    }
    this.drivers = attached;
  }

  private static String installedTypes(Registry registry) {
    List<String> names = registry.deviceTypes().stream().map(DeviceType::type).toList();
    return names.isEmpty() ? "none" : String.join(", ", names);
  }

  /** The driver of device type {@code type}, as a {@code driverClass}; exit code 4 otherwise. */
  <T extends DeviceDriver> T driver(String type, Class<T> driverClass) {
    DeviceDriver d = drivers.get(type);
    if (d == null) {
      throw AccrException.incompatible("node %s has no %s devices", nodeName, type);
    }
    if (!driverClass.isInstance(d)) {
      throw AccrException.incompatible("node %s: the %s driver is a %s, not a %s", nodeName,
          type, d.getClass().getName(), driverClass.getName());
    }
    return driverClass.cast(d);
  }

  /** The driver whose device files include {@code path}, or null. */
  DeviceDriver driverFor(String path) {
    for (DeviceDriver d : drivers.values()) {
      if (d.handles(path)) {
        return d;
      }
    }
    return null;
  }

  void close() {
    for (DeviceDriver d : drivers.values()) {
      d.close();
    }
  }
}
