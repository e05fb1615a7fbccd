package dev.accr.cli;

import dev.accr.api.AccrPlugin;
import dev.accr.api.DeviceType;
import dev.accr.plugin.Extensions;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;
import dev.accr.api.Workload;
import dev.accr.kernel.Topologies;
import dev.accr.kernel.Workloads;
import dev.accr.plugin.PluginHost;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code accr plugins}: installed plugins, workloads and topology presets. */
@Command(name = "plugins", mixinStandardHelpOptions = true,
    description = "List installed checkpoint plugins, workloads and topology presets.")
final class PluginsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--plugin-dir", paramLabel = "DIR",
      description = "Also load plugin jars from DIR (repeatable; also $ACCR_PLUGIN_DIR).")
  List<Path> pluginDirs = List.of();

  @Override
  public Integer call() {
    for (Path dir : pluginDirs) {
      Extensions.addPluginDir(dir);
    }
    PrintWriter out = spec.commandLine().getOut();
    out.printf("plugin API %d%n", AccrPlugin.API_VERSION);
    out.println("checkpoint plugins:");
    var plugins = PluginHost.installed().plugins();
    if (plugins.isEmpty()) {
      out.println("  (none: processes with host state only)");
    }
    for (AccrPlugin p : plugins) {
      out.printf("  %-12s API %d  %s%n", p.name(), p.apiVersion(), p.getClass().getName());
    }
    out.println("workloads:");
    for (Workload w : Workloads.all().values()) {
      out.printf("  %-12s %s%n  %-12s %s%n", w.name(), w.description(), "", w.usage());
    }
    out.println("device types: " + String.join(", ", Extensions.load(DeviceType.class).stream()
        .map(DeviceType::type).toList()));
    out.println("topology presets: " + String.join(", ", Topologies.presets()));
    if (!Extensions.pluginDirs().isEmpty()) {
      out.println("plugin directories: " + Extensions.pluginDirs());
    }
    return 0;
  }
}
