package dev.accr.npu;

import dev.accr.kernel.Node;
import dev.accr.testkit.Scenarios;
import dev.accr.npu.driver.NpuDriver;
import java.net.URISyntaxException;
import java.nio.file.Path;

/** Nodes with npus for tests: presets, and test topologies under {@code /topologies/}. */
final class NpuNodes {
  private NpuNodes() {}

  /** A preset name, or else the path of a test topology of that name. */
  static String topology(String name) {
    if (Scenarios.registry().topologies().presets().contains(name)) {
      return name;
    }
    try {
      return Path.of(NpuNodes.class.getResource("/topologies/" + name + ".json").toURI())
          .toString();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static Node node(String name, String topology) {
    return Scenarios.node(name, topology(topology));
  }

  static NpuDriver npu(Node node) {
    return node.driver(NpuDriver.TYPE, NpuDriver.class);
  }
}
