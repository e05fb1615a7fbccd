package dev.accr.engine;

import dev.accr.api.AccrException;
import dev.accr.api.AccrPlugin;
import dev.accr.api.DeviceDriver;
import dev.accr.api.DevicePair;
import dev.accr.api.MemoryView;
import dev.accr.api.NodeContext;
import dev.accr.kernel.Node;
import dev.accr.plugin.PluginHost;
import dev.accr.plugin.PluginSession;
import dev.accr.plugin.SessionSetup;
import dev.accr.proto.Topology;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The device mapping a restore of an image set onto a topology would use, computed by the
 * same plugin code as the restore's plan, without a node and without touching any device.
 */
public final class MappingDryRun {
  /** The image's source topology, the target, and the pairs chosen. */
  public record Plan(Topology source, Topology target, List<DevicePair> devices) {}

  private MappingDryRun() {}

  /**
   * Reads and verifies the set in {@code dir}, checks that its memory fits in the target's,
   * then maps its devices onto {@code target} with the options' mapping policy and plugin
   * options.
   *
   * @throws AccrException exit code 4 when no mapping exists (or a plugin is missing, or the
   *     memory does not fit), 3 when the set is damaged, 2 for bad plugin options, unknown
   *     relaxed checks or forced ids
   */
  public static Plan plan(Path dir, Topology target, PluginHost plugins, RestoreOptions options)
      throws IOException {
    ImageSet set = ImageSet.read(dir);
    RestorePlan.treeImages(set, plugins);
    RestorePlan.checkMemory(set, target.getName(),
        target.getCpusList().stream().mapToLong(c -> c.getMemoryBytes()).sum());
    try (PluginSession session = plugins.begin(AccrPlugin.Stage.MAP,
        SessionSetup.of(new TargetOnly(target), dir, set.id())
            .withOptions(options.pluginOptions()).withPolicy(options.mapping()))) {
      return new Plan(set.inventory().getSourceTopology(), target, session.mapDevices(target));
    }
  }

  /**
   * Checks that {@code bytes} of memory, which the set {@code what} holds without storing
   * them (a migration's probe), fit in what {@code node} has free now: exit 4 otherwise.
   */
  public static void checkMemory(String what, long bytes, Node node) {
    long total = node.topology().getCpusList().stream().mapToLong(c -> c.getMemoryBytes()).sum();
    long free = total - node.memory().residentPages() * MemoryView.PAGE_SIZE;
    if (bytes > free) {
      throw AccrException.incompatible("%s needs %d MiB of memory; node %s has %d MiB free of"
          + " %d MiB", what, bytes >> 20, node.name(), free >> 20, total >> 20);
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
