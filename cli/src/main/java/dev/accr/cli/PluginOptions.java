package dev.accr.cli;

import dev.accr.api.AccrException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * Options passed to checkpoint plugins: {@code --plugin-opt plugin.name=value}. The node
 * checks them against the options the plugins declare ({@code accr plugins} lists them).
 */
final class PluginOptions {
  @Option(names = "--plugin-opt", paramLabel = "PLUGIN.NAME=VALUE",
      description = "An option for a plugin, e.g. kfd.vram-copy=dma (repeatable; see"
          + " 'accr plugins').")
  List<String> raw = List.of();

  Map<String, String> toMap() {
    Map<String, String> out = new LinkedHashMap<>();
    for (String r : raw) {
      int eq = r.indexOf('=');
      int dot = r.indexOf('.');
      if (eq < 0 || dot < 1 || dot > eq) {
        throw AccrException.usage("--plugin-opt %s: expected PLUGIN.NAME=VALUE", r);
      }
      out.put(r.substring(0, eq), r.substring(eq + 1));
    }
    return out;
  }
}
