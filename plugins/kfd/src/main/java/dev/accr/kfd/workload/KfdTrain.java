package dev.accr.kfd.workload;

import static dev.accr.kfd.workload.GpuProgram.*;

import dev.accr.api.MemoryView;
import dev.accr.api.ProcessView;
import dev.accr.api.Prot;
import dev.accr.api.Workload;
import dev.accr.kfd.driver.Bo;
import dev.accr.kfd.driver.KfdProcess;
import dev.accr.kfd.driver.SvmRange;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * A toy training loop on one or more GPUs. Per GPU: weights and gradients in VRAM, input
 * batches staged from a host dataset into GTT and copied to VRAM by the SDMA queue, momentum
 * in SVM memory (half of it prefers the GPU and migrates there on first touch, half stays in
 * system memory), and completion signalled by events. Each step waits only for the step before
 * last, so two steps of dispatches are in flight at any moment.
 */
public final class KfdTrain implements Workload {
  static final long DATA = 0x2000_0000L;
  static final long BATCH = 64 << 10;
  static final int BATCH_SLOTS = 3;
  static final long DATA_BYTES = 4 * BATCH;
  static final long GTT_INPUT = 0x10_0000L;
  static final long WEIGHTS = 0x1000_0000L;
  static final long GRADS = 0x5000_0000L;
  static final long VRAM_INPUT = 0x9000_0000L;
  static final long SVM = 0x40_0000_0000L;

  @Override
  public String name() {
    return "kfd-train";
  }

  @Override
  public String description() {
    return "toy training loop: weights in VRAM, momentum in SVM, batches via GTT and SDMA";
  }

  @Override
  public String usage() {
    return USAGE;
  }

  @Override
  public List<dev.accr.api.WorkloadOption> options() {
    return GpuProgram.options(1);
  }

  @Override
  public void exec(ProcessView p, List<String> args) {
    long unit = setUp(p, name(), args, 1, 1);
    MemoryView m = p.memory();
    int gpus = (int) get(m, F_GPUS);
    KfdProcess kfd = kfd(p);
    m.mapAnonymous(DATA, DATA_BYTES * gpus, Prot.RW, "dataset");
    long seed = get(m, F_SEED);
    for (long i = 0; i < DATA_BYTES * gpus / 8; i++) {
      long bits = Float.floatToRawIntBits(noise(seed ^ 0x5eed, 2 * i)) & 0xffffffffL;
      bits |= (Float.floatToRawIntBits(noise(seed ^ 0x5eed, 2 * i + 1)) & 0xffffffffL) << 32;
      m.writeLong(DATA + 8 * i, bits);
    }
    m.mapAnonymous(SVM, unit * gpus, Prot.RW, "momentum");
    Set<Integer> all = new TreeSet<>();
    for (int g = 0; g < gpus; g++) {
      all.add((int) gpu(m, g, G_ID));
    }
    for (int g = 0; g < gpus; g++) {
      int id = (int) gpu(m, g, G_ID);
      kfd.allocGtt(id, base(g) + GTT_INPUT, BATCH * BATCH_SLOTS);
      kfd.allocVram(id, base(g) + WEIGHTS, unit, 0);
      kfd.allocVram(id, base(g) + GRADS, unit, 0);
      kfd.allocVram(id, base(g) + VRAM_INPUT, BATCH * BATCH_SLOTS, Bo.FLAG_CPU_VISIBLE);
      long half = unit / 2;
      kfd.svmRegister(SVM + g * unit, half);
      kfd.svmSetAttributes(SVM + g * unit, id, 0, all, SvmRange.FLAG_COHERENT, 9);
      kfd.svmRegister(SVM + g * unit + half, half);
      kfd.svmSetAttributes(SVM + g * unit + half, SvmRange.SYSTEM, 0, all,
          SvmRange.FLAG_COHERENT, 9);
      // Fill signals "done" once: after step s, the count is s + 2.
      dispatch(p, g, WorkloadKernels.Fill.ID, (int) (unit / 4096), (int) gpu(m, g, G_EVENT_B),
          base(g) + WEIGHTS, seed + g);
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
    for (int g = 0; g < gpus; g++) {
      int copied = (int) gpu(m, g, G_EVENT_A);
      int done = (int) gpu(m, g, G_EVENT_B);
      if (s >= 2) {
        kfd.waitEvent(done, s); // the step before last has finished: its slot is free
      }
      long slot = s % BATCH_SLOTS;
      long from = DATA + g * DATA_BYTES + ((s * 7 + g * 3) % 4) * BATCH;
      long gtt = base(g) + GTT_INPUT + slot * BATCH;
      for (long at = 0; at < BATCH; at += 4096) {
        MemorySegmentCopy.page(m, from + at, gtt + at);
      }
      long input = base(g) + VRAM_INPUT + slot * BATCH;
      copy(p, g, gtt, input, BATCH, copied);
      waitOnDevice(p, g, copied, s + 1);
      int pages = (int) (unit / 4096);
      dispatch(p, g, WorkloadKernels.Grad.ID, pages, 0, base(g) + WEIGHTS, base(g) + GRADS,
          input, BATCH / 4096);
      dispatch(p, g, WorkloadKernels.Update.ID, pages, done, base(g) + WEIGHTS, base(g) + GRADS,
          SVM + g * unit);
    }
    p.thread(0).setGpr(0, s + 1);
    return true;
  }

  @Override
  public void checkRestored(ProcessView p) {
    GpuProgram.checkRestored(p, name(), 1);
  }
}
