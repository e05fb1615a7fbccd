package dev.accr.cli;

import dev.accr.engine.TopologyJson;
import dev.accr.kernel.Topologies;
import dev.accr.proto.CpuNode;
import dev.accr.proto.Device;
import dev.accr.proto.Link;
import dev.accr.proto.Topology;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code accr topology show} and {@code accr topology map}. */
@Command(name = "topology", mixinStandardHelpOptions = true,
    description = "Inspect topologies, and how an image's devices would map onto one.",
    subcommands = {TopologyCommand.Show.class, TopologyMapCommand.class})
final class TopologyCommand {

  /** {@code accr topology show T [--json]}. */
  @Command(name = "show", mixinStandardHelpOptions = true,
      description = {"Show a preset or topology file.",
          "--json prints the file form, which can be edited and used with --topology."})
  static final class Show implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(paramLabel = "T", description = "Preset name or topology file.")
    String topology;

    @Option(names = "--json", description = "Print the topology file form.")
    boolean json;

    @Override
    public Integer call() throws Exception {
      Topologies topologies = AccrCommand.registry(spec).topologies();
      Topology t = topologies.load(topology);
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        out.println(TopologyJson.of(t, AccrCommand.registry(spec)));
        return 0;
      }
      out.printf("topology %s%n", t.getName());
      for (CpuNode c : t.getCpusList()) {
        out.printf("  node %d: cpu, %d cores, %d GiB%n", c.getNode(), c.getCores(),
            c.getMemoryBytes() >> 30);
      }
      DeviceLabels labels = DeviceLabels.of(AccrCommand.registry(spec));
      for (Device d : t.getDevicesList()) {
        out.printf("  node %d: %s%n", d.getNode(), labels.line(d));
      }
      for (Link l : t.getLinksList()) {
        out.printf("  link %d -> %d: %s weight %d%n", l.getFrom(), l.getTo(), l.getType(),
            l.getWeight());
      }
      return 0;
    }
  }
}
