package dev.accr.kfd.plugin;

import dev.accr.kfd.driver.Vram;
import dev.accr.kfd.driver.VramFaults;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The first-touch handlers of the lazily restored processes that have VRAM on one GPU: a GPU
 * has one {@link VramFaults}, and a tree's processes, or two lazy restores on one node, may
 * each have blocks to load on the same GPU. Each gets every fault and release and acts on its
 * own blocks only; the GPU goes back to its usual path once the last one is done. The list
 * lives with the GPU, so restores that know nothing of each other share it.
 */
final class SharedGpuFaults {
  private SharedGpuFaults() {}

  /** Sends the first touches of {@code vram}'s absent blocks to {@code faults} too. */
  static void add(Vram vram, VramFaults faults) {
    vram.changeFaults(current -> {
      Handlers h = current instanceof Handlers shared ? shared : new Handlers();
      if (current != null && current != h) {
        h.all.add(current); // a handler set on its own (not through this class) stays
      }
      h.all.add(faults);
      return h;
    });
  }

  /** No longer sends {@code vram}'s faults to {@code faults}; none at all once none is left. */
  static void remove(Vram vram, VramFaults faults) {
    vram.changeFaults(current -> {
      if (!(current instanceof Handlers h)) {
        return current == faults ? null : current;
      }
      h.all.remove(faults);
      return h.all.isEmpty() ? null : h;
    });
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
