package dev.accr.kfd;

import dev.accr.kernel.Node;
import dev.accr.kernel.Topologies;
import dev.accr.testkit.Scenarios;
import dev.accr.kfd.driver.KfdDriver;
import dev.accr.proto.Topology;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** Nodes with KFD GPUs for tests: presets, and test topologies that renumber their GPUs. */
public final class KfdNodes {
  private KfdNodes() {}

  /** A node of a preset, or of a test topology under {@code /topologies/} in test resources. */
  public static Node node(String name, String topology) {
    return new Node(name, topology(topology), Scenarios.registry());
  }

  /** A preset, or a test topology under {@code /topologies/} in test resources. */
  public static Topology topology(String name) {
    Topologies topologies = Scenarios.registry().topologies();
    try (InputStream in = KfdNodes.class.getResourceAsStream("/topologies/" + name + ".json")) {
      if (in != null && !topologies.presets().contains(name)) {
        return topologies.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), name);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return topologies.load(name);
  }

  public static KfdDriver kfd(Node node) {
    return node.driver("kfd", KfdDriver.class);
  }
}
