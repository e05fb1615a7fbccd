package dev.accr.engine;

import dev.accr.api.AccrException;
import dev.accr.api.DeviceDriver;
import dev.accr.api.DevicePair;
import dev.accr.api.MappingPolicy;
import dev.accr.api.NodeContext;
import dev.accr.plugin.Operation;
import dev.accr.plugin.PluginHost;
import dev.accr.proto.Topology;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The device mapping a restore of an image set onto a topology would use, computed by the
 * same plugin code as the restore, without a node and without touching any device.
 */
public final class MappingDryRun {
  /** The image's source topology, the target, and the pairs chosen. */
  public record Plan(Topology source, Topology target, List<DevicePair> devices) {}

  private MappingDryRun() {}

  /**
   * Reads and verifies the set in {@code dir}, then maps its devices onto {@code target}.
   *
   * @throws AccrException exit code 4 when no mapping exists (or a plugin is missing), 3 when
   *     the set is damaged, 2 for unknown relaxed checks or forced ids
   */
  public static Plan plan(Path dir, Topology target, PluginHost plugins, MappingPolicy policy,
      Map<String, String> pluginOptions) throws IOException {
    ImageSet set = ImageSet.read(dir);
    plugins.require(set.inventory().getPluginsList(), dir.toString());
    Operation op = Operation.map(new TargetOnly(target), dir, set.id(), pluginOptions, policy);
    try (op) {
      return new Plan(set.inventory().getSourceTopology(), target,
          plugins.mapDevices(op, policy, target));
    }
  }

  /** The target as plugins see it in a dry run: a topology without drivers. */
  private record TargetOnly(Topology topology) implements NodeContext {
    @Override
    public String name() {
      return topology.getName();
    }

    @Override
    public <T extends DeviceDriver> T driver(String type, Class<T> driverClass) {
      throw AccrException.failed("topology map: no %s driver in a dry run", type);
    }
  }
}
