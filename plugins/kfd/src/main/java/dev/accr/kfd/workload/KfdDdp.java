package dev.accr.kfd.workload;

import static dev.accr.kfd.workload.DdpMemory.*;

import dev.accr.api.AccrException;
import dev.accr.api.CorruptImageException;
import dev.accr.api.MemoryView;
import dev.accr.api.ProcessView;
import dev.accr.api.Prot;
import dev.accr.api.Workload;
import dev.accr.api.WorkloadOption;
import dev.accr.api.WorkloadOptions;
import dev.accr.kfd.driver.GfxTarget;
import dev.accr.kfd.driver.KfdProcess;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Data-parallel training: a launcher forks one worker per GPU ({@link DdpWorker}); each opens
 * {@code /dev/kfd}, trains on its own GPU and averages its gradients with the others' every
 * step, reading its partner's (rank xor 1) from the partner's VRAM over XGMI through a dma-buf
 * the partner exported, the rest through shared host memory; the launcher ({@link
 * DdpLauncher}) is the barrier between phases, over a report pipe and a command pipe per
 * worker. Gradients are summed in rank order on every worker, so the result, and the tree's
 * digest, do not depend on the schedule. Options as {@code kfd-train} (default 2 GPUs, even
 * ranks and the next must share an XGMI link).
 */
public final class KfdDdp implements Workload {
  private static final List<WorkloadOption> OWN_OPTIONS = List.of(new WorkloadOption(
      "trainable-fraction", "F", "1", "share of the weights that change each step (0 < F <= 1)"));

  @Override
  public String name() {
    return "kfd-ddp";
  }

  @Override
  public String description() {
    return "data-parallel training: a launcher and a worker per GPU, gradients shared as dma-bufs";
  }

  @Override
  public String usage() {
    return GpuProgram.USAGE + " --trainable-fraction F";
  }

  @Override
  public List<WorkloadOption> options() {
    List<WorkloadOption> all = new ArrayList<>(GpuProgram.options(2));
    all.addAll(OWN_OPTIONS);
    return all;
  }

  @Override
  public void exec(ProcessView p, List<String> args) {
    Set<String> known = new TreeSet<>(WorkloadOption.names(options()));
    WorkloadOptions o = WorkloadOptions.parse(name(), args, known);
    int gpus = (int) o.getLong("gpus", 2, 1, 8);
    long vramMib = o.getLong("vram-mib", 4, 2, 1 << 20);
    long vramKib = o.getLong("vram-kib", Math.max(2, vramMib & ~1L) << 10, 256, 1L << 30);
    long unit = (vramKib / 2) << 10 & ~4095L;
    if (unit > 0x2000_0000L) {
      throw AccrException.usage("%s: at most 1 GiB of VRAM per GPU", name());
    }
    List<Integer> isas = new ArrayList<>();
    for (String target : o.getString("offload-arch", GpuProgram.DEFAULT_OFFLOAD_ARCH)
        .split(",")) {
      isas.add(GfxTarget.parse(name(), target.strip()));
    }
    if (isas.size() > 8) {
      throw AccrException.usage("%s: --offload-arch: at most 8 targets", name());
    }
    int kfdFd = p.files().openDevice(KfdProcess.PATH); // how many GPUs: the workers use them
    int present = p.files().device(kfdFd, KfdProcess.class).gpuIds().size();
    p.files().close(kfdFd);
    if (present < gpus) {
      throw AccrException.usage("%s: --gpus %d but the node has %d", name(), gpus, present);
    }
    MemoryView m = p.memory();
    m.mapAnonymous(PAGE, 4096, Prot.RW, "ddp");
    set(m, GPUS, gpus);
    set(m, STEPS, o.getLong("steps", 20, 0, 1 << 30));
    set(m, SEED, o.getLong("seed", 1, 0, Long.MAX_VALUE));
    set(m, UNIT, unit);
    set(m, MICROS, o.getLong("gpu-us-per-wg", 0, 0, 100_000));
    set(m, PAGES, trainablePages(o.getString("trainable-fraction", "1"), unit / 4096));
    set(m, ISA_COUNT, isas.size());
    for (int i = 0; i < isas.size(); i++) {
      set(m, ISAS + i, isas.get(i));
    }
    m.mapShared(TABLE, 4096, Prot.RW, "ddp-peers");
    m.mapShared(EXCHANGE, unit * gpus, Prot.RW, "ddp-gradients");
    int[] report = p.files().pipe();
    set(m, REPORT_READ, report[0]);
    set(m, REPORT_WRITE, report[1]);
    for (int rank = 0; rank < gpus; rank++) {
      int[] cmd = p.files().pipe();
      set(m, cmdRead(rank), cmd[0]);
      set(m, cmdWrite(rank), cmd[1]);
    }
    p.thread(0).setGpr(R_STEP, 0);
    p.thread(0).setGpr(R_PHASE, DdpLauncher.FORK);
    p.thread(0).setGpr(R_ROLE, 0);
  }

  private long trainablePages(String fraction, long pages) {
    double f;
    try {
      f = Double.parseDouble(fraction.strip());
    } catch (NumberFormatException e) {
      f = Double.NaN;
    }
    if (!(f > 0 && f <= 1)) {
      throw AccrException.usage("%s: --trainable-fraction: %s is not in (0, 1]", name(),
          fraction.strip());
    }
    return Math.max(1, Math.min(pages, (long) Math.ceil(f * pages)));
  }

  @Override
  public boolean step(ProcessView p) {
    return p.thread(0).gpr(R_ROLE) == 0 ? DdpLauncher.step(p) : DdpWorker.step(p);
  }

  @Override
  public void checkRestored(ProcessView p) {
    MemoryView m = p.memory();
    long role = p.thread(0).gpr(R_ROLE);
    long phase = p.thread(0).gpr(R_PHASE);
    long gpus = get(m, GPUS);
    long steps = get(m, STEPS);
    long unit = get(m, UNIT);
    if (gpus < 1 || gpus > 8 || steps < 0 || steps > 1 << 30 || unit <= 0 || unit % 4096 != 0
        || unit > 0x2000_0000L || get(m, PAGES) < 1 || get(m, PAGES) > unit / 4096) {
      throw new CorruptImageException("pagemap-" + p.pid() + ".img", String.format(
          "%s: control page out of range (gpus %d, steps %d, buffer bytes %d)", name(), gpus,
          steps, unit));
    }
    long s = p.thread(0).gpr(R_STEP);
    if (p.threadCount() != 1 || role < 0 || role > gpus || phase < 0 || phase > 7
        || s < 0 || s > steps) {
      throw new CorruptImageException("core-" + p.pid() + ".img", String.format(
          "%s: role %d, phase %d, step %d out of range", name(), role, phase, s));
    }
  }
}
