package dev.accr.kfd.plugin;

import dev.accr.api.PluginContext;
import dev.accr.kfd.driver.Vram;
import dev.accr.kfd.driver.VramFaults;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The first-touch handlers of one restore's lazily restored processes, by GPU: a GPU has one
 * {@link VramFaults}, and in a tree several processes may have VRAM on one GPU, each with its
 * own blocks to load. Each gets every fault and release and acts on its own blocks only; the
 * GPU goes back to its usual path once the last one is done.
 */
final class SharedGpuFaults {
  private final Map<Vram, Handlers> byGpu = new IdentityHashMap<>();

  /** The restore's handlers, created on first use. */
  static SharedGpuFaults of(PluginContext ctx) {
    return ProcessStates.of(ctx).operation(SharedGpuFaults.class, SharedGpuFaults::new);
  }

  /** Sends the first touches of {@code vram}'s absent blocks to {@code faults} too. */
  synchronized void add(Vram vram, VramFaults faults) {
    Handlers h = byGpu.computeIfAbsent(vram, v -> new Handlers());
    h.all.add(faults);
    vram.setFaults(h);
  }

  /** No longer sends {@code vram}'s faults to {@code faults}; none at all once none is left. */
  synchronized void remove(Vram vram, VramFaults faults) {
    Handlers h = byGpu.get(vram);
    if (h == null) {
      return;
    }
    h.all.remove(faults);
    if (h.all.isEmpty()) {
      byGpu.remove(vram);
      vram.setFaults(null);
    }
  }

  private static final class Handlers implements VramFaults {
    private final List<VramFaults> all = new CopyOnWriteArrayList<>();

    @Override
    public void fault(int block) {
      for (VramFaults f : all) {
        f.fault(block); // returns at once for a block that is not its own
      }
    }

    @Override
    public void released(int block) {
      for (VramFaults f : all) {
        f.released(block);
      }
    }
  }
}
