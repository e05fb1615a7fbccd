package dev.accr.cli;

import dev.accr.api.AccrPlugin;
import dev.accr.api.DeviceType;
import dev.accr.api.PluginOption;
import dev.accr.api.Workload;
import dev.accr.kernel.Registry;
import dev.accr.plugin.PluginHost;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code accr plugins}: installed plugins and their options, workloads and topology presets. */
@Command(name = "plugins", mixinStandardHelpOptions = true,
    description = "List installed checkpoint plugins with their options, workloads, device types"
        + " and topology presets.")
final class PluginsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(arity = "0..1", paramLabel = "WORKLOAD",
      description = "Print only this workload's options, with defaults and descriptions.")
  String workload;

  @Override
  public Integer call() {
    Registry registry = AccrCommand.registry(spec);
    PrintWriter out = spec.commandLine().getOut();
    if (workload != null) {
      out.print(WorkloadHelp.of(registry.workload(workload)));
      return 0;
    }
    out.printf("plugin API %d%n", AccrPlugin.API_VERSION);
    out.println("checkpoint plugins:");
    var plugins = PluginHost.of(registry.plugins()).plugins();
    if (plugins.isEmpty()) {
      out.println("  (none: processes with host state only)");
    }
    for (AccrPlugin p : plugins) {
      out.printf("  %-12s API %d  %s%n", p.name(), p.apiVersion(), p.getClass().getName());
      if (p.apiVersion() < 4) {
        out.printf("  %-12s options are not declared (API %d): passed on unchecked%n", "",
            p.apiVersion());
        continue;
      }
      for (PluginOption o : p.options()) {
        out.printf("    --plugin-opt %s.%s=%s  (default %s)  %s%n", p.name(), o.name(), o.range(),
            o.defaultValue(), o.description());
      }
    }
    out.println("workloads:");
    for (Workload w : registry.workloads().values()) {
      out.printf("  %-12s %s%n  %-12s %s%n", w.name(), w.description(), "", w.usage());
    }
    out.println("device types: " + String.join(", ", registry.deviceTypes().stream()
        .map(DeviceType::type).toList()));
    out.println("topology presets: " + String.join(", ", registry.topologies().presets()));
    if (!registry.pluginDirs().isEmpty()) {
      out.println("plugin directories: " + registry.pluginDirs());
    }
    return 0;
  }
}
