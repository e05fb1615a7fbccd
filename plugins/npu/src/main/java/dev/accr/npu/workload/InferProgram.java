package dev.accr.npu.workload;

import dev.accr.api.AccrException;
import dev.accr.api.CorruptImageException;
import dev.accr.api.MemoryView;
import dev.accr.api.ProcessView;
import dev.accr.api.Prot;
import dev.accr.npu.driver.Jobs;
import dev.accr.npu.driver.NpuContext;

/**
 * What programs that infer on an npu share, as a small runtime library would. All of a
 * program's state is in its process: a control page with the descriptor, settings, device
 * addresses and a running checksum of every result; host buffers for inputs, outputs and job
 * descriptors (three slots each, so two batches can be in flight while a third is prepared);
 * the model and the batches in device memory.
 *
 * <p>Batch {@code b} is three jobs (copy in, infer, copy out) with fences
 * {@code base + 3b + 1 .. base + 3b + 3}. The first thread's registers say where the program
 * is: {@code gpr0} the batch being prepared, {@code gpr1} how many of its jobs the device has
 * taken, {@code pc} the phase of the step.
 */
public final class InferProgram {
  public static final long CONTROL = 0x1200_0000L;
  public static final long HOST_IN = 0x1300_0000L;
  public static final long HOST_OUT = 0x1400_0000L;
  public static final long JOBS = 0x1500_0000L;
  public static final int SLOTS = 3;
  public static final int MAX_BATCH = 64;
  /** Host bytes of one input slot: up to {@link #MAX_BATCH} requests of 64 floats. */
  public static final long SLOT_BYTES = MAX_BATCH * Jobs.DIM * 4L;
  private static final long DESCRIPTOR = Jobs.WORDS * 8L;
  /** How long one call waits for a fence before the step ends and is tried again. */
  static final long WAIT_MS = 50;

  static final int N_FD = 0;
  static final int N_STEPS = 1;
  static final int N_SEED = 2;
  static final int N_BATCH = 3;
  static final int N_ROWS = 4;
  static final int N_MICROS = 5;
  static final int N_MODEL = 6;
  static final int N_IN = 7;
  static final int N_OUT = 8;
  static final int N_FENCE_BASE = 9;
  static final int N_CHECK = 10;

  private InferProgram() {}

  static long get(MemoryView m, int field) {
    return m.readLong(CONTROL + 8L * field);
  }

  static void set(MemoryView m, int field, long value) {
    m.writeLong(CONTROL + 8L * field, value);
  }

  /** The number of batches the program runs. */
  public static long steps(ProcessView p) {
    return get(p.memory(), N_STEPS);
  }

  /** The seed the program was started with. */
  public static long seed(ProcessView p) {
    return get(p.memory(), N_SEED);
  }

  /** The checksum of every result folded so far. */
  public static long checksum(ProcessView p) {
    return get(p.memory(), N_CHECK);
  }

  public static NpuContext npu(ProcessView p) {
    return p.files().device((int) get(p.memory(), N_FD), NpuContext.class);
  }

  /** Host address of the input slot of batch {@code b}: {@code batch x 64} floats. */
  public static long inputSlot(long b) {
    return HOST_IN + Math.floorMod(b, SLOTS) * SLOT_BYTES;
  }

  /**
   * Maps the program's host memory, opens {@code npuPath}, allocates the model (two dense
   * layers, a state vector and an embedding table of {@code modelMib} MiB) and the batch
   * buffers, and fills the model on the device.
   */
  public static void setUp(ProcessView p, String npuPath, long steps, long seed, int batch,
      long modelMib, long micros) {
    if (batch < 1 || batch > MAX_BATCH) {
      throw AccrException.usage("batch %d is out of range [1, %d]", batch, MAX_BATCH);
    }
    MemoryView m = p.memory();
    m.mapAnonymous(CONTROL, 4096, Prot.RW, "npu-control");
    m.mapAnonymous(HOST_IN, SLOTS * SLOT_BYTES, Prot.RW, "requests");
    m.mapAnonymous(HOST_OUT, SLOTS * 4096L, Prot.RW, "results");
    m.mapAnonymous(JOBS, 4096, Prot.RW, "npu-jobs");
    set(m, N_FD, p.files().openDevice(npuPath));
    NpuContext npu = npu(p);
    long rows = Math.max(1, (modelMib << 20) / (Jobs.DIM * 4));
    long model = npu.allocate(Jobs.MODEL_HEADER_BYTES + rows * Jobs.DIM * 4);
    set(m, N_STEPS, steps);
    set(m, N_SEED, seed);
    set(m, N_BATCH, batch);
    set(m, N_ROWS, rows);
    set(m, N_MICROS, micros);
    set(m, N_MODEL, model);
    set(m, N_IN, npu.allocate(SLOTS * (long) batch * Jobs.DIM * 4));
    set(m, N_OUT, npu.allocate(SLOTS * (long) batch * 4));
    long layers = 2L * Jobs.DIM * Jobs.DIM * 4;
    long fence = submitNow(p, JOBS, Jobs.FILL, model, layers, seed);
    fence = Math.max(fence, submitNow(p, JOBS + DESCRIPTOR, Jobs.FILL,
        model + Jobs.MODEL_HEADER_BYTES, rows * Jobs.DIM * 4, seed ^ 0xe3b));
    while (!npu.awaitFence(fence, WAIT_MS)) {
      // setting up: nothing can checkpoint the process yet
    }
    set(m, N_FENCE_BASE, fence);
  }

  private static long submitNow(ProcessView p, long at, long... words) {
    writeDescriptor(p.memory(), at, words);
    long fence = npu(p).submit(at);
    if (fence == NpuContext.RETRY) {
      throw AccrException.failed("npu: the device is locked while the program starts");
    }
    return fence;
  }

  private static void writeDescriptor(MemoryView m, long at, long... words) {
    for (int i = 0; i < Jobs.WORDS; i++) {
      m.writeLong(at + 8L * i, i < words.length ? words[i] : 0);
    }
  }

  /** The fence of batch {@code b}'s last job. */
  static long fenceOf(ProcessView p, long b) {
    return get(p.memory(), N_FENCE_BASE) + 3 * b + 3;
  }

  /**
   * Submits the jobs of batch {@code b} whose input is in its slot, from the one
   * {@code gpr1} names. Returns false if the device took not all of them (it is locked): the
   * step ends and the next one carries on.
   */
  public static boolean submit(ProcessView p, long b) {
    return submit(p, b, inputSlot(b));
  }

  /** As {@link #submit(ProcessView, long)}, with the batch's input at {@code hostInput}. */
  public static boolean submit(ProcessView p, long b, long hostInput) {
    MemoryView m = p.memory();
    int batch = (int) get(m, N_BATCH);
    long slot = Math.floorMod(b, SLOTS);
    long inBytes = (long) batch * Jobs.DIM * 4;
    long devIn = get(m, N_IN) + slot * inBytes;
    long devOut = get(m, N_OUT) + slot * batch * 4L;
    long desc = JOBS + slot * 3 * DESCRIPTOR;
    writeDescriptor(m, desc, Jobs.COPY_IN, hostInput, devIn, inBytes);
    writeDescriptor(m, desc + DESCRIPTOR, Jobs.INFER, get(m, N_MODEL), get(m, N_ROWS), devIn,
        devOut, batch, get(m, N_MICROS));
    writeDescriptor(m, desc + 2 * DESCRIPTOR, Jobs.COPY_OUT, devOut,
        HOST_OUT + slot * 4096, batch * 4L);
    NpuContext npu = npu(p);
    var t = p.thread(0);
    for (long j = t.gpr(1); j < 3; j++) {
      if (npu.submit(desc + j * DESCRIPTOR) == NpuContext.RETRY) {
        return false;
      }
      t.setGpr(1, j + 1);
    }
    t.setGpr(1, 0);
    return true;
  }

  /** Where a step stands after its fold phase. */
  public enum Fold {
    /** Every batch is folded: the program ends. */
    FINISHED,
    /** The batch before last is not done yet: the step ends, the next one tries again. */
    NOT_YET,
    /** Folded (or nothing to fold): the step goes on. */
    DONE
  }

  /**
   * The fold phase of a step: while the first thread's pc is {@code foldPc}, folds the batch
   * before the one being prepared ({@code gpr0 - 2}) once the device is done with it.
   */
  public static Fold foldBatchBeforeLast(ProcessView p, long foldPc) {
    var t = p.thread(0);
    long s = t.gpr(0);
    long steps = steps(p);
    if (s >= steps + 2) {
      return Fold.FINISHED;
    }
    if (t.pc() == foldPc && s >= 2 && s - 2 < steps && !fold(p, s - 2)) {
      return Fold.NOT_YET;
    }
    return Fold.DONE;
  }

  /**
   * Folds the results of batch {@code b} into the checksum once the device is done with it.
   * Returns false if it is not done yet.
   */
  static boolean fold(ProcessView p, long b) {
    if (!npu(p).awaitFence(fenceOf(p, b), WAIT_MS)) {
      return false;
    }
    MemoryView m = p.memory();
    int batch = (int) get(m, N_BATCH);
    long out = HOST_OUT + Math.floorMod(b, SLOTS) * 4096;
    long check = get(m, N_CHECK);
    for (int r = 0; r < batch; r += 2) {
      check = check * 0x100000001B3L ^ m.readLong(out + 4L * r);
    }
    set(m, N_CHECK, check);
    return true;
  }

  /**
   * Checks a restored inference program before it runs: settings within what {@link #setUp}
   * accepts, the device buffers they name allocations of the save area large enough for them,
   * registers a run reaches (batch {@code gpr0} of at most {@code steps + 2}, a phase below
   * {@code phases}, {@code gpr1} jobs of the batch taken only while in {@code submitPc}), and
   * the jobs the device was given exactly those the batches so far submitted: every fence the
   * program waits for is one the device will reach.
   */
  public static void checkRestored(ProcessView p, String workload, long submitPc, long phases) {
    String memory = "pagemap-" + p.pid() + ".img";
    MemoryView m = p.memory();
    long steps = get(m, N_STEPS);
    long batch = get(m, N_BATCH);
    long rows = get(m, N_ROWS);
    long micros = get(m, N_MICROS);
    long fenceBase = get(m, N_FENCE_BASE);
    if (steps < 0 || steps > 1 << 30 || batch < 1 || batch > MAX_BATCH || rows < 1
        || rows > (4096L << 20) / (Jobs.DIM * 4) || micros < 0 || micros > 1_000_000
        || fenceBase < 0 || fenceBase > 1L << 40) {
      throw new CorruptImageException(memory, String.format("%s: control page out of range"
          + " (steps %d, batch %d, model rows %d, us per request %d, first fence %d)", workload,
          steps, batch, rows, micros, fenceBase));
    }
    var t = p.thread(0);
    long s = t.gpr(0);
    long taken = t.gpr(1);
    if (p.threadCount() != 1 || s < 0 || s > steps + 2 || t.pc() < 0 || t.pc() >= phases
        || (t.pc() != 0 && s >= steps) || taken < 0 || taken > 2
        || (taken != 0 && t.pc() != submitPc)) {
      throw new CorruptImageException("core-" + p.pid() + ".img", String.format("%s: batch %d"
          + " of %d, phase %d, %d jobs taken: no run reaches these registers", workload, s,
          steps, t.pc(), taken));
    }
    NpuContext npu = npu(p);
    long[][] buffers = {
        {get(m, N_MODEL), Jobs.MODEL_HEADER_BYTES + rows * Jobs.DIM * 4},
        {get(m, N_IN), SLOTS * batch * Jobs.DIM * 4}, {get(m, N_OUT), SLOTS * batch * 4}};
    for (long[] b : buffers) {
      if (npu.allocationBytes(b[0]) < b[1]) {
        throw new CorruptImageException(memory, String.format("%s: device buffer 0x%x of %d"
            + " bytes is not an allocation of the npu save area that holds %d", workload, b[0],
            npu.allocationBytes(b[0]), b[1]));
      }
    }
    long submitted = fenceBase + 3 * Math.min(s, steps) + (t.pc() == submitPc ? taken : 0);
    if (npu.submitted() != submitted) {
      throw new CorruptImageException("npu-devices-" + p.pid() + ".img", String.format("%s: the"
          + " npu took %d jobs, but %d batches after fence %d make %d", workload,
          npu.submitted(), Math.min(s, steps), fenceBase, submitted));
    }
  }
}
