package dev.accr.kfd.workload;

import static dev.accr.kfd.workload.GpuProgram.*;

import dev.accr.api.CorruptImageException;
import dev.accr.api.MemoryView;
import dev.accr.api.ProcessView;
import dev.accr.api.Prot;
import dev.accr.api.Workload;
import dev.accr.api.WorkloadOption;
import dev.accr.api.WorkloadOptions;
import dev.accr.kfd.driver.Bo;
import dev.accr.kfd.driver.KfdProcess;
import java.util.List;
import java.util.Set;

/**
 * A toy LLM inference server on one or more GPUs, each serving its own requests. Model weights
 * are loaded once into VRAM buffers (one per layer) and then only read. The KV cache is paged:
 * blocks of a few tokens in segments of 2 MiB, each a VRAM buffer that exists while one of its
 * blocks is in use, so segments are freed and allocated again as requests come and go.
 * Requests arrive in host memory; each step the host takes the tokens the last step generated,
 * retires finished requests (freeing their blocks), admits new ones (writing their block tables
 * into CPU-visible VRAM), writes the step's work list into GTT and dispatches one kernel that
 * writes the KV entries of the new tokens and generates the next ones; its completion is an
 * event. Per step only a small share of the memory is written.
 */
public final class KfdServe implements Workload {
  static final long SEGMENT = 2L << 20;
  // GPU addresses, from base(g).
  static final long WORK = 0x10_0000L; // GTT: the step's work items
  static final long OUT = 0x20_0000L; // GTT: the next token of each slot
  static final long TABLES = 0x40_0000L; // CPU-visible VRAM: block tables
  static final long WEIGHTS = 0x1000_0000L;
  static final long KV = 0x9000_0000L;
  // Host memory of the schedulers.
  static final long SERVE = 0x3000_0000L;
  static final long SERVE_BYTES = 0x4_0000L;
  // Control page fields.
  static final int F_REQUESTS = F_WORKLOAD;
  static final int F_KV_BYTES = F_WORKLOAD + 1;
  static final int F_LAYER_BYTES = F_WORKLOAD + 2;
  static final int F_HARVESTED = F_WORKLOAD + 3; // steps whose tokens the host took
  static final int G_NEXT_REQUEST = 8;
  static final int G_FINISHED = 9;
  static final int G_ITEMS = 10;
  static final int G_TOKENS_HASH = 11;
  static final int MAX_REQUESTS = 64;
  static final long MAX_WEIGHTS_MIB = 2048;
  static final long MAX_KV_MIB = 1024;

  @Override
  public String name() {
    return "kfd-serve";
  }

  @Override
  public String description() {
    return "toy LLM inference server: weights read-only in VRAM, paged KV cache, requests via"
        + " host memory and GTT";
  }

  @Override
  public String usage() {
    return "--gpus G --weights-mib W --kv-mib K --requests R --steps K --seed S"
        + " --gpu-us-per-wg U --offload-arch gfxA,gfxB";
  }

  @Override
  public List<WorkloadOption> options() {
    return List.of(
        new WorkloadOption("gpus", "G", "1", "GPUs it serves on"),
        new WorkloadOption("weights-mib", "W", "8", "model weights per GPU, read-only in VRAM"),
        new WorkloadOption("kv-mib", "K", "8", "KV cache per GPU, in 2 MiB segments"),
        new WorkloadOption("requests", "R", "8", "requests served at once per GPU"),
        new WorkloadOption("steps", "K", "20", "steps before it exits"),
        new WorkloadOption("seed", "S", "1", "seed of its requests"),
        new WorkloadOption("gpu-us-per-wg", "U", "0", "simulated GPU time per workgroup (µs)"),
        new WorkloadOption("offload-arch", "gfxA,gfxB", DEFAULT_OFFLOAD_ARCH,
            "ISAs it has code objects for"));
  }

  @Override
  public void exec(ProcessView p, List<String> args) {
    WorkloadOptions o = WorkloadOptions.parse(name(), args, WorkloadOption.names(options()));
    int gpus = (int) o.getLong("gpus", 1, 1, MAX_GPUS);
    long layerBytes = (o.getLong("weights-mib", 8, 1, MAX_WEIGHTS_MIB) << 20)
        / ServeKernels.LAYERS;
    long kvBytes = o.getLong("kv-mib", 8, 2, MAX_KV_MIB) << 20 & -SEGMENT;
    long requests = o.getLong("requests", 8, 1, MAX_REQUESTS);
    GpuProgram.setUp(p, name(), gpus, o.getLong("seed", 1, 0, Long.MAX_VALUE),
        o.getLong("steps", 20, 0, 1 << 30), layerBytes * ServeKernels.LAYERS,
        o.getLong("gpu-us-per-wg", 0, 0, 100_000));
    loadCode(p, name(), gpus, o.getString("offload-arch", DEFAULT_OFFLOAD_ARCH));
    MemoryView m = p.memory();
    set(m, F_REQUESTS, requests);
    set(m, F_KV_BYTES, kvBytes);
    set(m, F_LAYER_BYTES, layerBytes);
    m.mapAnonymous(SERVE, SERVE_BYTES * gpus, Prot.RW, "scheduler");
    KfdProcess kfd = kfd(p);
    long seed = get(m, F_SEED);
    for (int g = 0; g < gpus; g++) {
      int id = (int) gpu(m, g, G_ID);
      kfd.allocGtt(id, base(g) + WORK, pageAlign(requests * ServeScheduler.MAX_PROMPT
          * ServeKernels.ITEM_BYTES));
      kfd.allocGtt(id, base(g) + OUT, pageAlign(requests * 8));
      kfd.allocVram(id, base(g) + TABLES, pageAlign(requests * ServeKernels.TABLE_BYTES),
          Bo.FLAG_CPU_VISIBLE);
      for (int layer = 0; layer < ServeKernels.LAYERS; layer++) {
        long va = base(g) + WEIGHTS + layer * layerBytes;
        kfd.allocVram(id, va, layerBytes, 0);
        // Loading the model: the last layer's fill signals event B once (count 1).
        dispatch(p, g, WorkloadKernels.Fill.ID, (int) (layerBytes / 4096),
            layer == ServeKernels.LAYERS - 1 ? (int) gpu(m, g, G_EVENT_B) : 0, va,
            seed + g * 16L + layer);
      }
    }
    p.thread(0).setGpr(0, 0);
  }

  private static long pageAlign(long bytes) {
    return (bytes + 4095) & ~4095L;
  }

  @Override
  public boolean step(ProcessView p) {
    MemoryView m = p.memory();
    KfdProcess kfd = kfd(p);
    int gpus = (int) get(m, F_GPUS);
    long s = p.thread(0).gpr(0);
    long steps = get(m, F_STEPS);
    for (int g = 0; g < gpus; g++) {
      kfd.waitEvent((int) gpu(m, g, G_EVENT_B), Math.min(s, steps) + 1); // the last step
    }
    if (get(m, F_HARVESTED) < Math.min(s, steps)) {
      for (int g = 0; g < gpus; g++) {
        new ServeScheduler(p, g).harvest();
      }
      set(m, F_HARVESTED, Math.min(s, steps));
    }
    if (s >= steps) {
      return false;
    }
    long seed = get(m, F_SEED);
    for (int g = 0; g < gpus; g++) {
      ServeScheduler scheduler = new ServeScheduler(p, g);
      scheduler.retire();
      scheduler.admit(s, seed);
      int items = scheduler.buildWorkList();
      dispatch(p, g, ServeKernels.PagedAttention.ID, items, (int) gpu(m, g, G_EVENT_B),
          base(g) + WORK, base(g) + TABLES, base(g) + KV, base(g) + WEIGHTS,
          get(m, F_LAYER_BYTES), base(g) + OUT);
    }
    p.thread(0).setGpr(0, s + 1);
    return true;
  }

  @Override
  public void checkRestored(ProcessView p) {
    GpuProgram.checkRestored(p, name(), 0);
    MemoryView m = p.memory();
    String memory = "pagemap-" + p.pid() + ".img";
    long requests = get(m, F_REQUESTS);
    long kv = get(m, F_KV_BYTES);
    long layer = get(m, F_LAYER_BYTES);
    long harvested = get(m, F_HARVESTED);
    if (requests < 1 || requests > MAX_REQUESTS || kv < SEGMENT || kv > MAX_KV_MIB << 20
        || kv % SEGMENT != 0 || layer * ServeKernels.LAYERS != get(m, F_UNIT_BYTES)
        || harvested < 0 || harvested > p.thread(0).gpr(0)) {
      throw new CorruptImageException(memory, String.format("%s: control page out of range"
          + " (requests %d, KV bytes %d, layer bytes %d, harvested %d)", name(), requests, kv,
          layer, harvested));
    }
    for (int g = 0; g < get(m, F_GPUS); g++) {
      long items = gpu(m, g, G_ITEMS);
      if (items < 0 || items > requests * ServeScheduler.MAX_PROMPT) {
        throw new CorruptImageException(memory, String.format("%s: gpu %d has %d work items",
            name(), g, items));
      }
      String problem = new ServeScheduler(p, g).problem();
      if (problem != null) {
        throw new CorruptImageException(memory, name() + ": " + problem);
      }
    }
  }
}
