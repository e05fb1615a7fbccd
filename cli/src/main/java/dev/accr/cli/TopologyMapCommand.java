package dev.accr.cli;

import dev.accr.api.AccrException;
import dev.accr.api.DevicePair;
import dev.accr.engine.JsonOutput;
import dev.accr.engine.MappingDryRun;
import dev.accr.plugin.DevicePairs;
import dev.accr.engine.RestoreOptions;
import dev.accr.kernel.Registry;
import dev.accr.plugin.PluginHost;
import dev.accr.proto.MappingPlan;
import dev.accr.proto.Topology;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code accr topology map -D DIR --to T}: the device mapping a restore of DIR onto T would
 * use, computed by the restore's own code without a node; each pair's differences, or why no
 * mapping exists (exit code 4).
 */
@Command(name = "map", mixinStandardHelpOptions = true,
    description = {"Dry run of a restore's device mapping: which target device each device of"
        + " the image would take, how they differ, or why no mapping exists.",
        "--json prints a MappingPlan; --dot a Graphviz picture of both topologies."})
final class TopologyMapCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = {"-D", "--images-dir"}, required = true, paramLabel = "DIR",
      description = "The image set.")
  Path dir;

  @Option(names = "--to", required = true, paramLabel = "T",
      description = "Target: a preset name or topology file.")
  String target;

  @Mixin MappingOptions mapping;

  @Mixin PluginOptions pluginOptions;

  @ArgGroup(exclusive = true)
  Format format = new Format();

  static final class Format {
    @Option(names = "--json", description = "Print the plan as JSON, also when none exists.")
    boolean json;

    @Option(names = "--dot", description = "Print a Graphviz picture of the mapping.")
    boolean dot;
  }

  @Override
  public Integer call() throws Exception {
    Registry registry = AccrCommand.registry(spec);
    Topology to = registry.topologies().load(target);
    RestoreOptions options = RestoreOptions.defaults().withMapping(mapping.toPolicy())
        .withPluginOptions(pluginOptions.toMap());
    PrintWriter out = spec.commandLine().getOut();
    MappingDryRun.Plan plan;
    try {
      plan = MappingDryRun.plan(dir, to, PluginHost.of(registry.plugins()), options);
    } catch (AccrException e) {
      if (!format.json) {
        throw e;
      }
      out.println(JsonOutput.print(MappingPlan.newBuilder()
          .setImageDir(dir.toString()).setTarget(to.getName()).setOk(false)
          .setError(e.getMessage()).setExitCode(e.exitCode())));
      return e.exitCode();
    }
    if (format.json) {
      MappingPlan.Builder json = MappingPlan.newBuilder().setImageDir(dir.toString())
          .setSource(plan.source().getName()).setTarget(to.getName()).setOk(true);
      plan.devices().forEach(d -> json.addDevices(DevicePairs.toInfo(d)));
      out.println(JsonOutput.print(json));
    } else if (format.dot) {
      out.print(MappingDot.render(plan, DeviceLabels.of(registry)));
    } else {
      printText(out, plan);
    }
    return 0;
  }

  private void printText(PrintWriter out, MappingDryRun.Plan plan) {
    out.printf("%s (dumped on %s) -> %s: %d device%s%n", dir, plan.source().getName(),
        plan.target().getName(), plan.devices().size(), plan.devices().size() == 1 ? "" : "s");
    for (DevicePair d : plan.devices()) {
      out.printf("  %s 0x%x -> 0x%x (node %d -> %d)%n", d.type(), d.imageId(), d.targetId(),
          d.imageNode(), d.targetNode());
      for (String diff : d.differences()) {
        out.println("      " + diff);
      }
    }
  }
}
