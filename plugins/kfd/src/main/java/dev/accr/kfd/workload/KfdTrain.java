package dev.accr.kfd.workload;

import static dev.accr.kfd.workload.GpuProgram.*;

import dev.accr.api.AccrException;
import dev.accr.api.CorruptImageException;
import dev.accr.api.MemoryView;
import dev.accr.api.ProcessView;
import dev.accr.api.Prot;
import dev.accr.api.Untrusted;
import dev.accr.api.Workload;
import dev.accr.api.WorkloadOption;
import dev.accr.kfd.driver.Bo;
import dev.accr.kfd.driver.KfdProcess;
import dev.accr.kfd.driver.SvmRange;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * A toy training loop on one or more GPUs. Per GPU: weights and gradients in VRAM, input
 * batches staged from a host dataset into GTT and copied to VRAM by the SDMA queue, momentum
 * in SVM memory (half of it prefers the GPU and migrates there on first touch, half stays in
 * system memory), and completion signalled by events. Each step waits only for the step before
 * last, so two steps of dispatches are in flight at any moment. With {@code
 * --trainable-fraction F} (fine-tuning) only that share of the weights, from the first page,
 * and their gradients and momentum change; the rest stays frozen.
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
  /** Pages of weights (from the first) that train; 0 in programs from before it existed: all. */
  static final int F_TRAINABLE_PAGES = F_WORKLOAD;

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
    return USAGE + " --trainable-fraction F";
  }

  @Override
  public List<WorkloadOption> options() {
    List<WorkloadOption> all = new ArrayList<>(GpuProgram.options(1));
    all.addAll(OWN_OPTIONS);
    return all;
  }

  /** What fine-tuning changes: the share of weights (and their gradients) trained. */
  private static final List<WorkloadOption> OWN_OPTIONS = List.of(new WorkloadOption(
      "trainable-fraction", "F", "1", "share of the weights that change each step (0 < F <= 1)"));

  @Override
  public void exec(ProcessView p, List<String> args) {
    Setup setup = setUp(p, name(), args, 1, 1, OWN_OPTIONS);
    long unit = setup.unitBytes();
    MemoryView m = p.memory();
    set(m, F_TRAINABLE_PAGES, trainablePages(setup.options().getString("trainable-fraction",
        "1"), unit / 4096));
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
      int pages = trainablePages(m);
      dispatch(p, g, WorkloadKernels.Grad.ID, pages, 0, base(g) + WEIGHTS, base(g) + GRADS,
          input, BATCH / 4096);
      dispatch(p, g, WorkloadKernels.Update.ID, pages, done, base(g) + WEIGHTS, base(g) + GRADS,
          SVM + g * unit);
    }
    p.thread(0).setGpr(0, s + 1);
    return true;
  }

  /** The pages of {@code pages} that share {@code fraction} (0 < F <= 1) covers, at least 1. */
  private long trainablePages(String fraction, long pages) {
    double f;
    try {
      f = Double.parseDouble(fraction.strip());
    } catch (NumberFormatException e) {
      f = Double.NaN;
    }
    if (!(f > 0 && f <= 1)) {
      throw AccrException.usage("%s: --trainable-fraction: %s is not in (0, 1]", name(),
          Untrusted.quote(fraction));
    }
    return Math.max(1, Math.min(pages, (long) Math.ceil(f * pages)));
  }

  private static int trainablePages(MemoryView m) {
    long n = get(m, F_TRAINABLE_PAGES);
    return (int) (n == 0 ? get(m, F_UNIT_BYTES) / 4096 : n);
  }

  @Override
  public void checkRestored(ProcessView p) {
    GpuProgram.checkRestored(p, name(), 1);
    MemoryView m = p.memory();
    long n = get(m, F_TRAINABLE_PAGES);
    if (n < 0 || n > get(m, F_UNIT_BYTES) / 4096) {
      throw new CorruptImageException("pagemap-" + p.pid() + ".img", String.format(
          "%s: %d trainable pages, not 0 (all) or one of 1..%d", name(), n, get(m, F_UNIT_BYTES) / 4096));
    }
  }
}
