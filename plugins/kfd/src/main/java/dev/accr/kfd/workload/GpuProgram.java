package dev.accr.kfd.workload;

import dev.accr.api.AccrException;
import dev.accr.api.CorruptImageException;
import dev.accr.api.MemoryView;
import dev.accr.api.ProcessView;
import dev.accr.api.Prot;
import dev.accr.api.WorkloadOption;
import dev.accr.api.WorkloadOptions;
import dev.accr.kfd.driver.GfxTarget;
import dev.accr.kfd.driver.KfdProcess;
import dev.accr.kfd.driver.Packets;
import dev.accr.kfd.proto.QueueType;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the GPU workloads share, as a small runtime library would: a control page in host
 * memory holding every id and setting the program needs (so that all of its state is in the
 * process), a per-GPU layout of GPU addresses, and packet submission to queues with kernel
 * arguments in a GTT ring beside the packet ring.
 */
final class GpuProgram {
  /** The control page: 8-byte fields, global ones first, then 32 per GPU. */
  static final long CONTROL = 0x1000_0000L;
  static final int F_GPUS = 0;
  static final int F_STEPS = 1;
  static final int F_SEED = 2;
  static final int F_KFD_FD = 3;
  static final int F_UNIT_BYTES = 4; // the size of each GPU's main buffers
  static final int F_MICROS = 5;
  /** The first field a workload may use for its own settings (up to field 63). */
  static final int F_WORKLOAD = 8;
  static final int GPU_FIELDS = 32;
  static final int G_ID = 0;
  static final int G_RENDER_FD = 1;
  static final int G_COMPUTE_Q = 2;
  static final int G_SDMA_Q = 3;
  static final int G_EVENT_A = 4;
  static final int G_EVENT_B = 5;
  static final int MAX_GPUS = 16;

  /** GPU virtual addresses of GPU {@code g}'s buffers. */
  static long base(int g) {
    return 0x10_0000_0000L + g * 0x1_0000_0000L;
  }

  static final long RING_COMPUTE = 0;
  static final long RING_SDMA = 0x1000;
  static final long KERNARGS = 0x2000;
  static final long GTT_CONTROL_BYTES = 0x4000;
  static final long DOORBELL = 0xF000_0000L;
  static final long MMIO = 0xF000_1000L;
  static final int SLOTS = 64;

  private GpuProgram() {}

  static long get(MemoryView m, int field) {
    return m.readLong(CONTROL + 8L * field);
  }

  static void set(MemoryView m, int field, long value) {
    m.writeLong(CONTROL + 8L * field, value);
  }

  static long gpu(MemoryView m, int g, int field) {
    return get(m, 64 + g * GPU_FIELDS + field);
  }

  static void setGpu(MemoryView m, int g, int field, long value) {
    set(m, 64 + g * GPU_FIELDS + field, value);
  }

  static KfdProcess kfd(ProcessView p) {
    return p.files().device((int) get(p.memory(), F_KFD_FD), KfdProcess.class);
  }

  /** The options both GPU workloads take. */
  static final String USAGE = "--gpus G --vram-mib M | --vram-kib K --steps K --seed S"
      + " --gpu-us-per-wg U --offload-arch gfxA,gfxB";

  /** The ISAs the programs are built for unless told otherwise: MI100, MI200 and MI300. */
  static final String DEFAULT_OFFLOAD_ARCH = "gfx908,gfx90a,gfx942";

  /** The options both GPU workloads take, for help. */
  static List<WorkloadOption> options(int defaultGpus) {
    return List.of(
        new WorkloadOption("gpus", "G", "" + defaultGpus, "GPUs it uses"),
        new WorkloadOption("vram-mib", "M", "4", "VRAM per GPU for its buffers"),
        new WorkloadOption("vram-kib", "K", "from --vram-mib", "the same in KiB, for small runs"),
        new WorkloadOption("steps", "K", "20", "steps before it exits"),
        new WorkloadOption("seed", "S", "1", "seed of its data"),
        new WorkloadOption("gpu-us-per-wg", "U", "0", "simulated GPU time per workgroup (µs)"),
        new WorkloadOption("offload-arch", "gfxA,gfxB", DEFAULT_OFFLOAD_ARCH,
            "ISAs it has code objects for"));
  }

  /** Parses the common options and sets the process up; returns the per-GPU buffer size. */
  static long setUp(ProcessView p, String workload, List<String> args, int minGpus,
      int defaultGpus) {
    return setUp(p, workload, args, minGpus, defaultGpus, List.of()).unitBytes();
  }

  /** The per-GPU buffer size and the parsed options (for a workload's own ones). */
  record Setup(long unitBytes, WorkloadOptions options) {}

  /**
   * Parses the common options and the workload's own {@code extra} ones, and sets the process
   * up.
   */
  static Setup setUp(ProcessView p, String workload, List<String> args, int minGpus,
      int defaultGpus, List<WorkloadOption> extra) {
    Set<String> known = new TreeSet<>(WorkloadOption.names(extra));
    known.addAll(WorkloadOption.names(options(defaultGpus)));
    WorkloadOptions o = WorkloadOptions.parse(workload, args, known);
    int gpus = (int) o.getLong("gpus", defaultGpus, minGpus, MAX_GPUS);
    long vramMib = o.getLong("vram-mib", 4, 2, 1 << 20);
    // Main buffers, and as much again for others; --vram-kib for small processes (test images).
    long vramKib = o.getLong("vram-kib", Math.max(2, vramMib & ~1L) << 10, 256, 1L << 30);
    long unit = (vramKib / 2) << 10 & ~4095L;
    setUp(p, workload, gpus, o.getLong("seed", 1, 0, Long.MAX_VALUE),
        o.getLong("steps", 20, 0, 1 << 30), unit, o.getLong("gpu-us-per-wg", 0, 0, 100_000));
    loadCode(p, workload, gpus, o.getString("offload-arch", DEFAULT_OFFLOAD_ARCH));
    return new Setup(unit, o);
  }

  /** Loads code objects for each ISA of {@code --offload-arch}; each GPU used needs one. */
  static void loadCode(ProcessView p, String workload, int gpus, String offloadArch) {
    List<Integer> isas = new ArrayList<>();
    for (String target : offloadArch.split(",")) {
      isas.add(GfxTarget.parse(workload, target.strip()));
    }
    KfdProcess kfd = kfd(p);
    kfd.loadCodeObjects(isas);
    for (int g = 0; g < gpus; g++) {
      int isa = kfd.properties((int) gpu(p.memory(), g, G_ID)).getGfxTargetVersion();
      if (!isas.contains(isa)) {
        throw AccrException.usage("%s: --offload-arch %s has no code for GPU %d (%s)", workload,
            offloadArch, g, GfxTarget.name(isa));
      }
    }
  }

  /**
   * Opens /dev/kfd limited to the first {@code gpus} GPUs and their render nodes, maps the
   * control page, and for each GPU: a GTT buffer with both rings and the kernel arguments, its
   * doorbell page, its MMIO page (the HDP flush register the ROCm runtime maps), a compute and
   * an SDMA queue, and two events.
   */
  static void setUp(ProcessView p, String workload, int gpus, long seed, long steps,
      long unitBytes, long micros) {
    setUp(p, workload, 0, gpus, seed, steps, unitBytes, micros);
  }

  /** {@link #setUp} on {@code gpus} GPUs of the node from the one at index {@code first}. */
  static void setUp(ProcessView p, String workload, int first, int gpus, long seed, long steps,
      long unitBytes, long micros) {
    MemoryView m = p.memory();
    m.mapAnonymous(CONTROL, 4096 * 4, Prot.RW, "control");
    int fd = p.files().openDevice(KfdProcess.PATH);
    set(m, F_KFD_FD, fd);
    KfdProcess kfd = kfd(p);
    if (kfd.gpuIds().size() < first + gpus) {
      throw AccrException.usage("%s: --gpus %d but the node has %d", workload, first + gpus,
          kfd.gpuIds().size());
    }
    // the GPUs it uses are all it holds
    kfd.restrictDevices(List.copyOf(kfd.gpuIds().subList(first, first + gpus)));
    set(m, F_GPUS, gpus);
    set(m, F_STEPS, steps);
    set(m, F_SEED, seed);
    set(m, F_UNIT_BYTES, unitBytes);
    set(m, F_MICROS, micros);
    for (int g = 0; g < gpus; g++) {
      int id = kfd.gpuIds().get(g);
      setGpu(m, g, G_ID, id);
      String render = "/dev/dri/renderD" + kfd.properties(id).getDrmRenderMinor();
      setGpu(m, g, G_RENDER_FD, p.files().openDevice(render));
      kfd.allocGtt(id, base(g), GTT_CONTROL_BYTES);
      kfd.mapDevicePage(id, base(g) + DOORBELL, true);
      kfd.mapDevicePage(id, base(g) + MMIO, false);
      setGpu(m, g, G_COMPUTE_Q, kfd.createQueue(id, QueueType.COMPUTE, 7, base(g) + RING_COMPUTE,
          SLOTS));
      setGpu(m, g, G_SDMA_Q, kfd.createQueue(id, QueueType.SDMA, 7, base(g) + RING_SDMA, SLOTS));
      setGpu(m, g, G_EVENT_A, kfd.createEvent());
      setGpu(m, g, G_EVENT_B, kfd.createEvent());
    }
  }

  /** Appends a DISPATCH of {@code kernel} with {@code args} to GPU {@code g}'s compute queue. */
  static void dispatch(ProcessView p, int g, int kernel, int workgroups, int completionEvent,
      long... args) {
    MemoryView m = p.memory();
    KfdProcess kfd = kfd(p);
    int q = (int) gpu(m, g, G_COMPUTE_Q);
    long index = kfd.writeIndex(q);
    long kernarg = base(g) + KERNARGS + Math.floorMod(index, SLOTS) * 64L;
    for (int i = 0; i < args.length; i++) {
      m.writeLong(kernarg + 8L * i, args[i]);
    }
    Packets.write(m, base(g) + RING_COMPUTE, SLOTS, index, Packets.DISPATCH, kernel, workgroups,
        kernarg, completionEvent, get(m, F_MICROS));
    kfd.ringDoorbell(q, index + 1);
  }

  /** Makes GPU {@code g}'s compute queue wait until {@code event} reached {@code count}. */
  static void waitOnDevice(ProcessView p, int g, int event, long count) {
    append(p, g, G_COMPUTE_Q, base(g) + RING_COMPUTE, Packets.WAIT_EVENT, event, count);
  }

  /** Appends an SDMA copy on GPU {@code g}'s SDMA queue. */
  static void copy(ProcessView p, int g, long src, long dst, long bytes, int completionEvent) {
    append(p, g, G_SDMA_Q, base(g) + RING_SDMA, Packets.COPY, src, dst, bytes, completionEvent);
  }

  private static void append(ProcessView p, int g, int queueField, long ring, long... words) {
    KfdProcess kfd = kfd(p);
    int q = (int) gpu(p.memory(), g, queueField);
    long index = kfd.writeIndex(q);
    Packets.write(p.memory(), ring, SLOTS, index, words);
    kfd.ringDoorbell(q, index + 1);
  }

  /**
   * Checks a restored GPU program: registers and control page within what {@link #setUp}
   * accepts and the steps reach, its GPUs, queues and events those of its /dev/kfd, and each
   * event counted no further than the steps so far can have signalled it, and with the signals
   * still queued no less than the steps to come wait for: event A {@code perStepA} times a
   * step, event B once for the fill and once a step.
   */
  static void checkRestored(ProcessView p, String workload, long perStepA) {
    String core = "core-" + p.pid() + ".img";
    String memory = "pagemap-" + p.pid() + ".img";
    MemoryView m = p.memory();
    long s = p.thread(0).gpr(0);
    long steps = get(m, F_STEPS);
    if (p.threadCount() != 1 || p.thread(0).pc() != 0 || s < 0 || s > steps) {
      throw new CorruptImageException(core, String.format("%s: step %d (pc %d) is not one of"
          + " 0..%d", workload, s, p.thread(0).pc(), steps));
    }
    long gpus = get(m, F_GPUS);
    long unit = get(m, F_UNIT_BYTES);
    long micros = get(m, F_MICROS);
    if (steps < 0 || steps > 1 << 30 || gpus < 1 || gpus > MAX_GPUS || unit <= 0
        || unit % 4096 != 0 || unit > 1L << 39 || micros < 0 || micros > 100_000) {
      throw new CorruptImageException(memory, String.format("%s: control page out of range"
          + " (steps %d, gpus %d, buffer bytes %d, us per workgroup %d)", workload, steps, gpus,
          unit, micros));
    }
    KfdProcess kfd = kfd(p);
    // Programs dumped before they held only the GPUs they use see every GPU of their node.
    if (kfd.gpuIds().size() < gpus) {
      throw new CorruptImageException(memory, String.format("%s: %d gpus in the control page,"
          + " %d in /dev/kfd", workload, gpus, kfd.gpuIds().size()));
    }
    for (int g = 0; g < gpus; g++) {
      if (!kfd.gpuIds().contains((int) gpu(m, g, G_ID))) {
        throw new CorruptImageException(memory, String.format("%s: gpu %d is 0x%x, not one of"
            + " its /dev/kfd", workload, g, gpu(m, g, G_ID)));
      }
      kfd.writeIndex((int) gpu(m, g, G_COMPUTE_Q));
      kfd.writeIndex((int) gpu(m, g, G_SDMA_Q));
      long a = kfd.eventCount((int) gpu(m, g, G_EVENT_A));
      long b = kfd.eventCount((int) gpu(m, g, G_EVENT_B));
      String events = "kfd-events-" + p.pid() + ".img";
      if (a > perStepA * s || b > s + 1) {
        throw new CorruptImageException(events, String.format(
            "%s: gpu %d events signalled %d and %d times, more than %d steps can (%d and %d)",
            workload, g, a, b, s, perStepA * s, s + 1));
      }
      // Every signal the steps so far sent for is counted or still queued: the waits of the
      // steps to come (on the GPU for event A, on the host for event B) need all of them.
      long aSoon = a + kfd.pendingSignals((int) gpu(m, g, G_EVENT_A));
      long bSoon = b + kfd.pendingSignals((int) gpu(m, g, G_EVENT_B));
      if (aSoon < perStepA * s || bSoon < s + 1) {
        throw new CorruptImageException(events, String.format("%s: gpu %d events signalled"
            + " %d and %d times with %d and %d signals queued, fewer than the %d and %d that"
            + " %d steps wait for", workload, g, a, b, aSoon - a, bSoon - b, perStepA * s, s + 1,
            s));
      }
    }
  }

  /** A deterministic float in [-1, 1) from a seed and an index (SplitMix64). */
  static float noise(long seed, long index) {
    long z = seed + (index + 1) * 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    z ^= z >>> 31;
    return (z >>> 40) / (float) (1L << 23) - 1f;
  }
}
