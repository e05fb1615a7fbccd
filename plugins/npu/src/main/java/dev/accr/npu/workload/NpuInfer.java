package dev.accr.npu.workload;

import dev.accr.api.MemoryView;
import dev.accr.api.ProcessView;
import dev.accr.api.ThreadView;
import dev.accr.api.Workload;
import dev.accr.api.WorkloadOption;
import dev.accr.api.WorkloadOptions;
import dev.accr.npu.driver.Jobs;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * Serves batches of requests through a small model whose weights live in npu memory. Each
 * step folds the results of the batch before last into a checksum, prepares the next batch's
 * requests in host memory and submits its jobs, so two batches are on the device at any time.
 */
public final class NpuInfer implements Workload {
  /** Step phases, kept in the first thread's pc. */
  static final long FOLD = 0;
  static final long SUBMIT = 1;

  @Override
  public String name() {
    return "npu-infer";
  }

  @Override
  public String description() {
    return "batched inference on an npu: weights and a drifting state in npu memory";
  }

  @Override
  public String usage() {
    return "--npu N --steps K --seed S --batch B --model-mib M --npu-us-per-req U";
  }

  @Override
  public List<WorkloadOption> options() {
    return List.of(
        new WorkloadOption("npu", "N", "0", "the npu it uses, /dev/npuN"),
        new WorkloadOption("steps", "K", "40", "steps before it exits"),
        new WorkloadOption("seed", "S", "1", "seed of its weights and requests"),
        new WorkloadOption("batch", "B", "16", "requests per batch"),
        new WorkloadOption("model-mib", "M", "4", "weights in npu memory"),
        new WorkloadOption("npu-us-per-req", "U", "0", "simulated npu time per request (µs)"));
  }

  @Override
  public void exec(ProcessView p, List<String> args) {
    WorkloadOptions o = WorkloadOptions.parse(name(), args, WorkloadOption.names(options()));
    InferProgram.setUp(p, "/dev/npu" + o.getLong("npu", 0, 0, 255),
        o.getLong("steps", 40, 0, 1 << 30), o.getLong("seed", 1, 0, Long.MAX_VALUE),
        (int) o.getLong("batch", 16, 1, InferProgram.MAX_BATCH), o.getLong("model-mib", 4, 0, 4096),
        o.getLong("npu-us-per-req", 0, 0, 1_000_000));
    p.thread(0).setPc(FOLD);
  }

  @Override
  public boolean step(ProcessView p) {
    switch (InferProgram.foldBatchBeforeLast(p, FOLD)) {
      case FINISHED -> {
        return false;
      }
      case NOT_YET -> {
        return true; // not done yet: this phase again next step
      }
      case DONE -> { }
    }
    ThreadView t = p.thread(0);
    long s = t.gpr(0);
    if (s < InferProgram.steps(p)) {
      t.setPc(SUBMIT);
      writeRequests(p, s);
      if (!InferProgram.submit(p, s)) {
        return true; // the device is locked: submit the rest next step
      }
    }
    t.setGpr(0, s + 1);
    t.setPc(FOLD);
    return true;
  }

  /** The requests of batch {@code b}: deterministic features (rewriting them is harmless). */
  private static void writeRequests(ProcessView p, long b) {
    MemoryView m = p.memory();
    long seed = InferProgram.get(m, InferProgram.N_SEED);
    long floats = InferProgram.get(m, InferProgram.N_BATCH) * Jobs.DIM;
    long slot = InferProgram.inputSlot(b);
    for (long page = 0; page * 1024 < floats; page++) {
      MemorySegment dst = m.pageForWrite(slot + page * 4096);
      for (int i = 0; i < 1024 && page * 1024 + i < floats; i++) {
        dst.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i,
            Jobs.noise(seed * 31 + b, page * 1024 + i));
      }
    }
  }

  @Override
  public void checkRestored(ProcessView p) {
    InferProgram.checkRestored(p, name(), SUBMIT, 2);
  }
}
