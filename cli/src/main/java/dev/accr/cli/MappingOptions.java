package dev.accr.cli;

import dev.accr.api.AccrException;
import dev.accr.api.MappingPolicy;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import picocli.CommandLine.Option;

/** {@code --device-map OLD=NEW,...} and {@code --relax CHECK,...} of restore and topology map. */
final class MappingOptions {
  @Option(names = "--device-map", split = ",", paramLabel = "OLD=NEW",
      description = "Force image device OLD onto target device NEW (ids in decimal or 0x hex);"
          + " still checked like any other pair.")
  List<String> deviceMap = List.of();

  @Option(names = "--relax", split = ",", paramLabel = "CHECK",
      description = "Relax mapping checks: vram, capability, fw, caches, numa (and those of"
          + " other plugins).")
  List<String> relax = List.of();

  MappingPolicy toPolicy() {
    Map<Integer, Integer> forced = new LinkedHashMap<>();
    Set<Integer> targets = new HashSet<>();
    for (String pair : deviceMap) {
      String[] kv = pair.split("=", -1);
      if (kv.length != 2) {
        throw AccrException.usage("--device-map %s: expected OLD=NEW", pair);
      }
      int from = id(pair, kv[0]);
      int to = id(pair, kv[1]);
      if (forced.put(from, to) != null) {
        throw AccrException.usage("--device-map: device 0x%x is given twice", from);
      }
      if (!targets.add(to)) {
        throw AccrException.usage("--device-map: target 0x%x is given twice", to);
      }
    }
    Set<String> checks = new TreeSet<>();
    for (String r : relax) {
      if (!r.matches("[a-z][a-z0-9-]*")) {
        throw AccrException.usage("--relax '%s': expected check names like vram,fw", r);
      }
      checks.add(r);
    }
    return MappingPolicy.of(forced, checks);
  }

  private static int id(String pair, String text) {
    try {
      long v = Long.decode(text.strip());
      if (v < 0 || v > 0xffff_ffffL) {
        throw new NumberFormatException();
      }
      return (int) v;
    } catch (NumberFormatException e) {
      throw AccrException.usage("--device-map %s: '%s' is not a device id", pair, text);
    }
  }
}
