package dev.accr.mixed;

import dev.accr.api.CorruptImageException;
import dev.accr.api.MemoryView;
import dev.accr.api.ProcessView;
import dev.accr.api.Prot;
import dev.accr.api.ThreadView;
import dev.accr.api.Workload;
import dev.accr.api.WorkloadOption;
import dev.accr.api.WorkloadOptions;
import dev.accr.kfd.driver.KfdProcess;
import dev.accr.kfd.driver.Packets;
import dev.accr.kfd.proto.QueueType;
import dev.accr.kfd.workload.WorkloadKernels;
import dev.accr.npu.workload.InferProgram;
import java.util.List;

/**
 * A pipeline over two device types: each batch of requests is preprocessed on a KFD GPU (a
 * kernel writes its features into GTT memory, which the npu reads as host memory) and then
 * inferred on an npu, as in {@code npu-infer}. Steps: fold the batch before last, dispatch the
 * next batch's preprocessing, wait for the GPU, submit the npu jobs; so the GPU and the npu
 * both have work in flight when a dump comes.
 */
public final class MixedPipeline implements Workload {
  static final long CONTROL = 0x1600_0000L;
  static final int M_KFD_FD = 0;
  static final int M_GPU = 1;
  static final int M_QUEUE = 2;
  static final int M_EVENT = 3;
  static final int M_MICROS = 4;
  /** GTT: the packet ring, kernel arguments, then three feature slots. */
  static final long GTT = 0x20_0000_0000L;
  static final long KERNARGS = 0x1000;
  static final long FEATURES = 0x2000;
  static final int RING_SLOTS = 64;
  /** Step phases, kept in the first thread's pc. */
  static final long FOLD = 0;
  static final long PREPROCESS = 1;
  static final long SUBMIT = 2;

  @Override
  public String name() {
    return "mixed-pipeline";
  }

  @Override
  public String description() {
    return "preprocess batches on a KFD GPU, infer them on an npu";
  }

  @Override
  public String usage() {
    return "--steps K --seed S --batch B --model-mib M --npu-us-per-req U --gpu-us-per-wg W";
  }

  private static long get(MemoryView m, int field) {
    return m.readLong(CONTROL + 8L * field);
  }

  private static long features(long b) {
    return GTT + FEATURES + Math.floorMod(b, InferProgram.SLOTS) * InferProgram.SLOT_BYTES;
  }

  @Override
  public List<WorkloadOption> options() {
    return List.of(
        new WorkloadOption("steps", "K", "40", "steps before it exits"),
        new WorkloadOption("seed", "S", "1", "seed of its weights and batches"),
        new WorkloadOption("batch", "B", "16", "requests per batch"),
        new WorkloadOption("model-mib", "M", "4", "weights in npu memory"),
        new WorkloadOption("npu-us-per-req", "U", "0", "simulated npu time per request (µs)"),
        new WorkloadOption("gpu-us-per-wg", "W", "0", "simulated GPU time per workgroup (µs)"));
  }

  @Override
  public void exec(ProcessView p, List<String> args) {
    WorkloadOptions o = WorkloadOptions.parse(name(), args, WorkloadOption.names(options()));
    InferProgram.setUp(p, "/dev/npu0", o.getLong("steps", 40, 0, 1 << 30),
        o.getLong("seed", 1, 0, Long.MAX_VALUE),
        (int) o.getLong("batch", 16, 1, InferProgram.MAX_BATCH), o.getLong("model-mib", 4, 0, 4096),
        o.getLong("npu-us-per-req", 0, 0, 1_000_000));
    MemoryView m = p.memory();
    m.mapAnonymous(CONTROL, 4096, Prot.RW, "gpu-control");
    int fd = p.files().openDevice(KfdProcess.PATH);
    KfdProcess kfd = p.files().device(fd, KfdProcess.class);
    int gpu = kfd.gpuIds().getFirst();
    kfd.restrictDevices(List.of(gpu)); // one GPU is all it uses, and all a restore needs
    kfd.loadCodeObjects(List.of(kfd.properties(gpu).getGfxTargetVersion())); // built for it
    kfd.allocGtt(gpu, GTT, FEATURES + InferProgram.SLOTS * InferProgram.SLOT_BYTES);
    long[] fields = {fd, gpu, kfd.createQueue(gpu, QueueType.COMPUTE, 7, GTT, RING_SLOTS),
        kfd.createEvent(), o.getLong("gpu-us-per-wg", 0, 0, 100_000)};
    for (int i = 0; i < fields.length; i++) {
      m.writeLong(CONTROL + 8L * i, fields[i]);
    }
    p.thread(0).setPc(FOLD);
  }

  @Override
  public boolean step(ProcessView p) {
    switch (InferProgram.foldBatchBeforeLast(p, FOLD)) {
      case FINISHED -> {
        return false;
      }
      case NOT_YET -> {
        return true;
      }
      case DONE -> { }
    }
    ThreadView t = p.thread(0);
    long s = t.gpr(0);
    if (s < InferProgram.steps(p)) {
      if (t.pc() == FOLD) {
        t.setPc(PREPROCESS);
      }
      if (t.pc() == PREPROCESS) {
        preprocess(p, s);
        t.setPc(SUBMIT);
      }
      kfd(p).waitEvent((int) get(p.memory(), M_EVENT), s + 1);
      if (!InferProgram.submit(p, s, features(s))) {
        return true; // the npu is locked: submit the rest next step
      }
    }
    t.setGpr(0, s + 1);
    t.setPc(FOLD);
    return true;
  }

  private static KfdProcess kfd(ProcessView p) {
    return p.files().device((int) get(p.memory(), M_KFD_FD), KfdProcess.class);
  }

  /** Dispatches the fill kernel that writes batch {@code b}'s features (one page each). */
  private static void preprocess(ProcessView p, long b) {
    MemoryView m = p.memory();
    KfdProcess kfd = kfd(p);
    int queue = (int) get(m, M_QUEUE);
    long index = kfd.writeIndex(queue);
    long kernarg = GTT + KERNARGS + Math.floorMod(index, RING_SLOTS) * 64L;
    m.writeLong(kernarg, features(b));
    m.writeLong(kernarg + 8, InferProgram.seed(p) * 31 + b);
    long pages = InferProgram.SLOT_BYTES / MemoryView.PAGE_SIZE;
    Packets.write(m, GTT, RING_SLOTS, index, Packets.DISPATCH, WorkloadKernels.Fill.ID, pages,
        kernarg, get(m, M_EVENT), get(m, M_MICROS));
    kfd.ringDoorbell(queue, index + 1);
  }

  /**
   * The npu side as {@code npu-infer} checks it; the GPU side: its ids are those of its
   * /dev/kfd and the event counts one preprocessing a batch so far, the ones still queued
   * included, as the host waits for each of them.
   */
  @Override
  public void checkRestored(ProcessView p) {
    InferProgram.checkRestored(p, name(), SUBMIT, 3);
    MemoryView m = p.memory();
    ThreadView t = p.thread(0);
    KfdProcess kfd = kfd(p);
    long micros = get(m, M_MICROS);
    if (!kfd.gpuIds().equals(List.of((int) get(m, M_GPU))) || micros < 0 || micros > 100_000) {
      throw new CorruptImageException("pagemap-" + p.pid() + ".img", String.format("%s: gpu"
          + " 0x%x is not the one of its /dev/kfd, or %d us per workgroup", name(),
          get(m, M_GPU), micros));
    }
    kfd.writeIndex((int) get(m, M_QUEUE));
    int event = (int) get(m, M_EVENT);
    long count = kfd.eventCount(event);
    long queued = kfd.pendingSignals(event);
    long preprocessed = Math.min(t.gpr(0), InferProgram.steps(p)) + (t.pc() == SUBMIT ? 1 : 0);
    if (count > preprocessed || count + queued < preprocessed) {
      throw new CorruptImageException("kfd-events-" + p.pid() + ".img", String.format("%s:"
          + " event signalled %d times with %d signals queued, but %d batches were"
          + " preprocessed", name(), count, queued, preprocessed));
    }
  }
}
