package dev.accr.kfd.workload;

import static dev.accr.kfd.workload.DdpMemory.*;
import static dev.accr.kfd.workload.GpuProgram.G_EVENT_A;
import static dev.accr.kfd.workload.GpuProgram.G_EVENT_B;
import static dev.accr.kfd.workload.GpuProgram.G_ID;
import static dev.accr.kfd.workload.GpuProgram.base;
import static dev.accr.kfd.workload.GpuProgram.gpu;

import dev.accr.api.AccrException;
import dev.accr.api.FileView;
import dev.accr.api.MemoryView;
import dev.accr.api.ProcessView;
import dev.accr.api.Prot;
import dev.accr.api.ThreadView;
import dev.accr.kfd.driver.KfdProcess;
import dev.accr.kfd.driver.SvmRange;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A worker of {@code kfd-ddp}: trains on its own GPU like {@code kfd-train} (weights,
 * gradients and momentum on it, batches staged through GTT by SDMA), and averages its
 * gradients with every other worker's each step: its partner's (rank xor 1, in its XGMI hive)
 * straight from the partner's VRAM through the dma-buf the partner exported, the others'
 * through shared host memory. Between phases it waits on the launcher's barrier; a phase that
 * queued GPU work returns with it in flight.
 */
final class DdpWorker {
  static final int SETUP = 0;
  static final int IMPORT = 1;
  static final int GO = 2;
  static final int COMPUTE = 3;
  static final int PUBLISH = 4;
  static final int REDUCE = 5;
  static final int UPDATED = 6;
  static final int NEXT = 7;

  static final long PEER_GRADS = 0xB000_0000L;
  static final long REDUCED = 0xD000_0000L;
  static final long REDUCE_TABLE = GpuProgram.KERNARGS + 0x1000; // in the GTT control buffer

  private DdpWorker() {}

  static boolean step(ProcessView p) {
    ThreadView t = p.thread(0);
    int phase = (int) t.gpr(R_PHASE);
    if (phase != SETUP && phase != COMPUTE && phase != PUBLISH && phase != UPDATED
        && !command(p)) {
      return true; // the barrier is not passed yet
    }
    switch (phase) {
      case SETUP -> setUp(p);
      case IMPORT -> importPartner(p);
      case GO -> { }
      case COMPUTE -> {
        if (t.gpr(R_STEP) >= get(p.memory(), STEPS)) {
          return false;
        }
        compute(p, t.gpr(R_STEP));
      }
      case PUBLISH -> publish(p);
      case REDUCE -> reduce(p);
      case UPDATED -> updated(p);
      case NEXT -> t.setGpr(R_STEP, t.gpr(R_STEP) + 1);
      default -> throw AccrException.failed("kfd-ddp: phase %d", phase);
    }
    t.setGpr(R_PHASE, phase == NEXT ? COMPUTE : phase + 1);
    return true;
  }

  static int rank(ProcessView p) {
    return (int) p.thread(0).gpr(R_ROLE) - 1;
  }

  /** Takes the launcher's answer to the last report; false if none yet. */
  private static boolean command(ProcessView p) {
    byte[] one = new byte[1];
    int n = p.files().read((int) get(p.memory(), cmdRead(rank(p))), one, 0, 1);
    if (n == 0) {
      throw AccrException.failed("kfd-ddp: worker %d: the launcher is gone", rank(p));
    }
    return n == 1;
  }

  private static void report(ProcessView p) {
    byte[] r = new byte[REPORT];
    r[0] = (byte) rank(p);
    p.files().write((int) get(p.memory(), REPORT_WRITE), r);
  }

  private static void setUp(ProcessView p) {
    MemoryView m = p.memory();
    int gpus = (int) get(m, GPUS);
    int rank = rank(p);
    FileView f = p.files();
    f.close((int) get(m, REPORT_READ));
    for (int other = 0; other < gpus; other++) {
      f.close((int) get(m, cmdWrite(other)));
      if (other != rank) {
        f.close((int) get(m, cmdRead(other)));
      }
    }
    long unit = get(m, UNIT);
    long seed = get(m, SEED);
    GpuProgram.setUp(p, "kfd-ddp", rank, 1, seed, get(m, STEPS), unit, get(m, MICROS));
    KfdProcess kfd = GpuProgram.kfd(p);
    List<Integer> isas = new ArrayList<>();
    for (int i = 0; i < get(m, ISA_COUNT); i++) {
      isas.add((int) get(m, ISAS + i));
    }
    kfd.loadCodeObjects(isas);
    int id = (int) gpu(m, 0, G_ID);
    m.mapAnonymous(KfdTrain.DATA, KfdTrain.DATA_BYTES, Prot.RW, "dataset");
    for (long i = 0; i < KfdTrain.DATA_BYTES / 8; i++) {
      long bits = Float.floatToRawIntBits(GpuProgram.noise(seed ^ (0x5eed + rank), 2 * i))
          & 0xffffffffL;
      bits |= (Float.floatToRawIntBits(GpuProgram.noise(seed ^ (0x5eed + rank), 2 * i + 1))
          & 0xffffffffL) << 32;
      m.writeLong(KfdTrain.DATA + 8 * i, bits);
    }
    kfd.allocGtt(id, base(0) + KfdTrain.GTT_INPUT, KfdTrain.BATCH * KfdTrain.BATCH_SLOTS);
    kfd.allocVram(id, base(0) + KfdTrain.WEIGHTS, unit, 0);
    int grads = kfd.allocVram(id, base(0) + KfdTrain.GRADS, unit, 0);
    kfd.allocVram(id, base(0) + REDUCED, unit, 0);
    kfd.allocVram(id, base(0) + KfdTrain.VRAM_INPUT, KfdTrain.BATCH * KfdTrain.BATCH_SLOTS, 0);
    m.mapAnonymous(KfdTrain.SVM, unit, Prot.RW, "momentum");
    kfd.svmRegister(KfdTrain.SVM, unit);
    kfd.svmSetAttributes(KfdTrain.SVM, id, 0, Set.of(id), SvmRange.FLAG_COHERENT, 9);
    kfd.registerUserptr(id, EXCHANGE, unit * gpus);
    // Same weights in every worker (the same seed): averaged gradients keep them equal.
    GpuProgram.dispatch(p, 0, WorkloadKernels.Fill.ID, (int) (unit / 4096),
        (int) gpu(m, 0, G_EVENT_B), base(0) + KfdTrain.WEIGHTS, seed);
    set(m, EXPECT_B, 1);
    int fd = kfd.exportDmaBuf(grads);
    set(m, GRAD_FD, fd);
    m.writeLong(TABLE + 16L * rank, p.pid());
    m.writeLong(TABLE + 16L * rank + 8, fd);
    report(p);
  }

  private static void importPartner(ProcessView p) {
    MemoryView m = p.memory();
    int gpus = (int) get(m, GPUS);
    int rank = rank(p);
    int partner = rank ^ 1;
    KfdProcess kfd = GpuProgram.kfd(p);
    int id = (int) gpu(m, 0, G_ID);
    if (partner < gpus) {
      int theirs = p.files().getFd((int) m.readLong(TABLE + 16L * partner),
          (int) m.readLong(TABLE + 16L * partner + 8));
      kfd.importDmaBuf(theirs, id, base(0) + PEER_GRADS);
      p.files().close(theirs); // the import holds the buffer
    }
    long unit = get(m, UNIT);
    for (int j = 0; j < gpus; j++) {
      long at = j == rank ? base(0) + KfdTrain.GRADS
          : j == partner ? base(0) + PEER_GRADS : EXCHANGE + j * unit;
      m.writeLong(base(0) + REDUCE_TABLE + 8L * j, at);
    }
    kfd.waitEvent((int) gpu(m, 0, G_EVENT_B), get(m, EXPECT_B)); // the weights are filled
    report(p);
  }

  /** Stages a batch and queues its gradients; returns with the work in flight. */
  private static void compute(ProcessView p, long s) {
    MemoryView m = p.memory();
    int rank = rank(p);
    long slot = s % KfdTrain.BATCH_SLOTS;
    long from = KfdTrain.DATA + ((s * 7 + rank * 3) % 4) * KfdTrain.BATCH;
    long gtt = base(0) + KfdTrain.GTT_INPUT + slot * KfdTrain.BATCH;
    for (long at = 0; at < KfdTrain.BATCH; at += 4096) {
      MemorySegmentCopy.page(m, from + at, gtt + at);
    }
    long input = base(0) + KfdTrain.VRAM_INPUT + slot * KfdTrain.BATCH;
    int a = (int) gpu(m, 0, G_EVENT_A);
    int b = (int) gpu(m, 0, G_EVENT_B);
    GpuProgram.copy(p, 0, gtt, input, KfdTrain.BATCH, a);
    set(m, EXPECT_A, get(m, EXPECT_A) + 1);
    GpuProgram.waitOnDevice(p, 0, a, get(m, EXPECT_A));
    GpuProgram.dispatch(p, 0, WorkloadKernels.Grad.ID, (int) get(m, PAGES), b,
        base(0) + KfdTrain.WEIGHTS, base(0) + KfdTrain.GRADS, input, KfdTrain.BATCH / 4096);
    set(m, EXPECT_B, get(m, EXPECT_B) + 1);
  }

  /** Once the gradients are done: a copy in shared host memory, then the report. */
  private static void publish(ProcessView p) {
    MemoryView m = p.memory();
    KfdProcess kfd = GpuProgram.kfd(p);
    int a = (int) gpu(m, 0, G_EVENT_A);
    kfd.waitEvent((int) gpu(m, 0, G_EVENT_B), get(m, EXPECT_B));
    long unit = get(m, UNIT);
    GpuProgram.copy(p, 0, base(0) + KfdTrain.GRADS, EXCHANGE + rank(p) * unit,
        get(m, PAGES) * 4096, a);
    set(m, EXPECT_A, get(m, EXPECT_A) + 1);
    kfd.waitEvent(a, get(m, EXPECT_A));
    report(p);
  }

  /** Every worker's gradients are out: average them and step the weights. */
  private static void reduce(ProcessView p) {
    MemoryView m = p.memory();
    int pages = (int) get(m, PAGES);
    GpuProgram.dispatch(p, 0, DdpKernels.AllReduce.ID, pages, 0, base(0) + REDUCED,
        base(0) + REDUCE_TABLE, get(m, GPUS));
    GpuProgram.dispatch(p, 0, WorkloadKernels.Update.ID, pages, (int) gpu(m, 0, G_EVENT_B),
        base(0) + KfdTrain.WEIGHTS, base(0) + REDUCED, KfdTrain.SVM);
    set(m, EXPECT_B, get(m, EXPECT_B) + 1);
  }

  /** The update is done (so every read of the others' gradients): report. */
  private static void updated(ProcessView p) {
    MemoryView m = p.memory();
    GpuProgram.kfd(p).waitEvent((int) gpu(m, 0, G_EVENT_B), get(m, EXPECT_B));
    report(p);
  }
}
