package dev.accr.api;

import dev.accr.proto.Topology;

/** A node as plugins and drivers see it: its name, topology and device drivers. */
public interface NodeContext {
  String name();

  Topology topology();

  /**
   * The driver of the node's devices of {@code type}.
   *
   * @throws AccrException with exit code 4 if the node has no such devices
   */
  <T extends DeviceDriver> T driver(String type, Class<T> driverClass);
}
