package dev.accr.kfd.driver;

import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/** The installed GPU kernels by id, found once. */
final class Kernels {
  private Kernels() {}

  private static final class Holder {
    static final Map<Integer, GpuKernel> ALL = load();

    private static Map<Integer, GpuKernel> load() {
      Map<Integer, GpuKernel> all = new TreeMap<>();
      for (GpuKernel k : ServiceLoader.load(GpuKernel.class, Kernels.class.getClassLoader())) {
        if (all.putIfAbsent(k.id(), k) != null) {
          throw new IllegalStateException("two GPU kernels have id " + k.id());
        }
      }
      return all;
    }
  }

  static GpuKernel get(long id) {
    GpuKernel k = Holder.ALL.get((int) id);
    if (k == null || k.id() != id) {
      throw new GpuFault("illegal instruction: no kernel with id " + id);
    }
    return k;
  }
}
