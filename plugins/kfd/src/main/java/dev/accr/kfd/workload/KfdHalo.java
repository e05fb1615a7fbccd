package dev.accr.kfd.workload;

import static dev.accr.kfd.workload.GpuProgram.*;

import dev.accr.api.AccrException;
import dev.accr.api.MemoryView;
import dev.accr.api.ProcessView;
import dev.accr.api.Workload;
import dev.accr.kfd.driver.KfdProcess;
import java.util.List;

/**
 * A 1-D stencil split over two or more GPUs. Each step, every GPU first reads its
 * neighbours' edge pages straight from their VRAM over peer links into its halo pages, then
 * updates its slab into the other buffer. GPUs synchronise on each other's events in their
 * queues; the host keeps up to three steps in flight.
 */
public final class KfdHalo implements Workload {
  static final long BUFFER_0 = 0x1000_0000L;
  static final long BUFFER_1 = 0x5000_0000L;
  static final long HALO = 0x9000_0000L;

  @Override
  public String name() {
    return "kfd-halo";
  }

  @Override
  public String description() {
    return "stencil over 2+ GPUs exchanging halos over peer (XGMI) links";
  }

  @Override
  public String usage() {
    return USAGE;
  }

  @Override
  public List<dev.accr.api.WorkloadOption> options() {
    return GpuProgram.options(2);
  }

  @Override
  public void exec(ProcessView p, List<String> args) {
    long unit = setUp(p, name(), args, 2, 2);
    MemoryView m = p.memory();
    int gpus = (int) get(m, F_GPUS);
    KfdProcess kfd = kfd(p);
    for (int g = 0; g + 1 < gpus; g++) {
      int a = (int) gpu(m, g, G_ID);
      int b = (int) gpu(m, g + 1, G_ID);
      if (!kfd.canReach(a, b) || !kfd.canReach(b, a)) {
        throw AccrException.usage("%s: gpus 0x%x and 0x%x have no peer link", name(), a, b);
      }
    }
    long seed = get(m, F_SEED);
    for (int g = 0; g < gpus; g++) {
      int id = (int) gpu(m, g, G_ID);
      int b0 = kfd.allocVram(id, base(g) + BUFFER_0, unit, 0);
      int b1 = kfd.allocVram(id, base(g) + BUFFER_1, unit, 0);
      kfd.allocVram(id, base(g) + HALO, 2 * 4096, 0);
      for (int n = g - 1; n <= g + 1; n += 2) {
        if (n >= 0 && n < gpus) {
          kfd.mapToGpu(b0, (int) gpu(m, n, G_ID)); // neighbours read our edges
          kfd.mapToGpu(b1, (int) gpu(m, n, G_ID));
        }
      }
      // Fill signals "done" once: after step s, the count is s + 2.
      dispatch(p, g, WorkloadKernels.Fill.ID, (int) (unit / 4096), (int) gpu(m, g, G_EVENT_B),
          base(g) + BUFFER_0, seed + g);
    }
    p.thread(0).setGpr(0, 0);
  }

  @Override
  public boolean step(ProcessView p) {
    MemoryView m = p.memory();
    KfdProcess kfd = kfd(p);
    int gpus = (int) get(m, F_GPUS);
    long s = p.thread(0).gpr(0);
    long steps = get(m, F_STEPS);
    if (s >= steps) {
      for (int g = 0; g < gpus; g++) {
        kfd.waitEvent((int) gpu(m, g, G_EVENT_B), steps + 1);
      }
      return false;
    }
    long unit = get(m, F_UNIT_BYTES);
    long pages = unit / 4096;
    for (int g = 0; g < gpus; g++) {
      if (s >= 3) {
        kfd.waitEvent((int) gpu(m, g, G_EVENT_B), s - 1); // at most three steps in flight
      }
    }
    long src = s % 2 == 0 ? BUFFER_0 : BUFFER_1;
    long dst = s % 2 == 0 ? BUFFER_1 : BUFFER_0;
    for (int g = 0; g < gpus; g++) {
      for (int n = g - 1; n <= g + 1; n += 2) {
        if (n >= 0 && n < gpus) {
          // The neighbour finished step s - 1, so its edge for step s is ready.
          waitOnDevice(p, g, (int) gpu(m, n, G_EVENT_B), s + 1);
        }
      }
      long left = g > 0 ? base(g - 1) + src + unit - 4096 : 0;
      long right = g + 1 < gpus ? base(g + 1) + src : 0;
      dispatch(p, g, WorkloadKernels.Halo.ID, 2, 0, left, right, base(g) + HALO);
      dispatch(p, g, WorkloadKernels.Stencil.ID, (int) pages, (int) gpu(m, g, G_EVENT_B),
          base(g) + src, base(g) + dst, base(g) + HALO, pages);
    }
    p.thread(0).setGpr(0, s + 1);
    return true;
  }

  @Override
  public void checkRestored(ProcessView p) {
    GpuProgram.checkRestored(p, name(), 0);
  }
}
