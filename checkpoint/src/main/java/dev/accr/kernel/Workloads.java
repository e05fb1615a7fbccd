package dev.accr.kernel;

import dev.accr.api.AccrException;
import dev.accr.api.Workload;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/** The workloads installed on the class path, found once through {@link ServiceLoader}. */
public final class Workloads {
  private Workloads() {}

  private static final class Holder {
    static final Map<String, Workload> ALL = load();

    private static Map<String, Workload> load() {
      Map<String, Workload> all = new TreeMap<>();
      for (Workload w : ServiceLoader.load(Workload.class, Workloads.class.getClassLoader())) {
        all.putIfAbsent(w.name(), w);
      }
      return all;
    }
  }

  /** The workload called {@code name}; an unknown name lists the installed ones. */
  public static Workload get(String name) {
    Workload w = Holder.ALL.get(name);
    if (w == null) {
      throw AccrException.usage("unknown workload '%s' (installed: %s)", name,
          String.join(", ", Holder.ALL.keySet()));
    }
    return w;
  }

  /** All installed workloads by name. */
  public static Map<String, Workload> all() {
    return Holder.ALL;
  }
}
