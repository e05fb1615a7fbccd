package dev.accr.kernel;

import dev.accr.api.AccrException;
import dev.accr.api.Workload;
import dev.accr.plugin.Extensions;
import java.util.Map;
import java.util.TreeMap;

/** The installed workloads: on the class path and in plugin jars ({@link Extensions}). */
public final class Workloads {
  private Workloads() {}

  /** The workload called {@code name}; an unknown name lists the installed ones. */
  public static Workload get(String name) {
    Map<String, Workload> all = all();
    Workload w = all.get(name);
    if (w == null) {
      throw AccrException.usage("unknown workload '%s' (installed: %s)", name,
          String.join(", ", all.keySet()));
    }
    return w;
  }

  /** All installed workloads by name. */
  public static Map<String, Workload> all() {
    Map<String, Workload> all = new TreeMap<>();
    for (Workload w : Extensions.load(Workload.class)) {
      all.putIfAbsent(w.name(), w);
    }
    return all;
  }
}
