package dev.accr.cli;

import dev.accr.api.AccrException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * Options passed to checkpoint plugins: {@code --plugin-opt plugin.name=value}, and shortcuts
 * for the KFD plugin's VRAM copy path and staging budget.
 */
final class PluginOptions {
  @Option(names = "--plugin-opt", paramLabel = "PLUGIN.NAME=VALUE",
      description = "An option for a plugin, e.g. kfd.vram-copy=dma (repeatable).")
  List<String> raw = List.of();

  @Option(names = "--vram-copy", paramLabel = "dma|cpu|auto",
      description = "How GPU memory is copied: SDMA engines (dma, default), the CPU through the"
          + " visible VRAM window (cpu), or the CPU where it can reach (auto).")
  String vramCopy;

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
    if (vramCopy != null) {
      if (!List.of("dma", "cpu", "auto").contains(vramCopy)) {
        throw AccrException.usage("--vram-copy %s: expected dma, cpu or auto", vramCopy);
      }
      out.put("kfd.vram-copy", vramCopy);
    }
    return out;
  }
}
