package dev.accr.workload;

import static dev.accr.workload.PipeChainMemory.CONTROL;
import static dev.accr.workload.PipeChainMemory.COUNTERS;
import static dev.accr.workload.PipeChainMemory.HEAP_BASE;
import static dev.accr.workload.PipeChainMemory.IN_RING;
import static dev.accr.workload.PipeChainMemory.MAX_STAGES;
import static dev.accr.workload.PipeChainMemory.OUT_RING;
import static dev.accr.workload.PipeChainMemory.RING_BYTES;
import static dev.accr.workload.PipeChainMemory.R_BYTES_IN;
import static dev.accr.workload.PipeChainMemory.R_BYTES_OUT;
import static dev.accr.workload.PipeChainMemory.R_CONSUMED;
import static dev.accr.workload.PipeChainMemory.R_FILE_FD;
import static dev.accr.workload.PipeChainMemory.R_HEAP_PAGES;
import static dev.accr.workload.PipeChainMemory.R_PHASE;
import static dev.accr.workload.PipeChainMemory.R_PRODUCED;
import static dev.accr.workload.PipeChainMemory.R_RECORDS;
import static dev.accr.workload.PipeChainMemory.R_ROLE;
import static dev.accr.workload.PipeChainMemory.R_SEED;
import static dev.accr.workload.PipeChainMemory.R_STAGES;

import dev.accr.api.CorruptImageException;
import dev.accr.api.FileView;
import dev.accr.api.MemoryView;
import dev.accr.api.ProcessView;
import dev.accr.api.Prot;
import dev.accr.api.ThreadView;
import dev.accr.api.Workload;
import dev.accr.api.WorkloadOption;
import dev.accr.api.WorkloadOptions;
import java.util.List;

/**
 * {@code pipe-chain}: a root forks {@code --stages N} children connected by pipes in a ring
 * (root, stage 1, ..., stage N, root). Records flow through the ring, each stage transforms
 * them and counts them in a MAP_SHARED page of counters with atomic additions; the root logs
 * each returned record and a summary to its output file. The result does not depend on how
 * the processes are scheduled: pipes keep record order, counters only add, and no process
 * exits before every record has passed every stage.
 */
public final class PipeChainWorkload implements Workload {
  @Override
  public String name() {
    return "pipe-chain";
  }

  @Override
  public String description() {
    return "a root and N stage processes passing records through pipes, with shared counters";
  }

  @Override
  public String usage() {
    return "[--stages N] [--steps K] [--seed S] [--mem-mib M] [--out FILE]";
  }

  @Override
  public List<WorkloadOption> options() {
    return List.of(
        new WorkloadOption("stages", "N", "3", "stage processes the root forks (1..64)"),
        new WorkloadOption("steps", "K", "100", "batches of 16 records the root sends"),
        new WorkloadOption("seed", "S", "1", "seed of the records"),
        new WorkloadOption("mem-mib", "MIB", "4", "private heap of each process"),
        new WorkloadOption("out", "FILE", "pipe-chain-PID.out", "the root's log of records"));
  }

  @Override
  public void exec(ProcessView p, List<String> args) {
    WorkloadOptions o = WorkloadOptions.parse(name(), args, WorkloadOption.names(options()));
    int stages = (int) o.getLong("stages", 3, 1, MAX_STAGES);
    long steps = o.getLong("steps", 100, 0, Long.MAX_VALUE / PipeChainStage.BATCH);
    long seed = o.getLong("seed", 1, Long.MIN_VALUE, Long.MAX_VALUE);
    long memMib = o.getLong("mem-mib", 4, 1, 1 << 20);
    String out = o.getString("out", "pipe-chain-" + p.pid() + ".out");

    MemoryView m = p.memory();
    long heapPages = (memMib << 20) / MemoryView.PAGE_SIZE;
    m.mapAnonymous(HEAP_BASE, memMib << 20, Prot.RW, "[heap]");
    m.mapAnonymous(CONTROL, MemoryView.PAGE_SIZE, Prot.RW, "control");
    m.mapAnonymous(IN_RING, RING_BYTES, Prot.RW, "in-ring");
    m.mapAnonymous(OUT_RING, RING_BYTES, Prot.RW, "out-ring");
    m.mapShared(COUNTERS, MemoryView.PAGE_SIZE, Prot.RW, "counters");
    long fill = seed;
    for (long page = 0; page < heapPages; page++) { // the heap each stage gets a copy of
      fill = SplitMix.next(fill);
      m.writeLong(HEAP_BASE + page * MemoryView.PAGE_SIZE + 4088, SplitMix.mix(fill));
    }
    ThreadView t = p.thread(0);
    t.setGpr(R_FILE_FD, p.files().open(out, FileView.O_WRITE | FileView.O_CREATE));
    for (int i = 0; i <= stages; i++) {
      int[] fds = p.files().pipe();
      m.writeLong(PipeChainMemory.pipeFdSlot(i, 0), fds[0]);
      m.writeLong(PipeChainMemory.pipeFdSlot(i, 1), fds[1]);
    }
    t.setGpr(R_STAGES, stages);
    t.setGpr(R_RECORDS, steps * PipeChainStage.BATCH);
    t.setGpr(R_SEED, seed);
    t.setGpr(R_HEAP_PAGES, heapPages);
  }

  @Override
  public boolean step(ProcessView p) {
    return p.thread(0).gpr(R_ROLE) == 0 ? PipeChainRoot.step(p) : PipeChainStage.step(p);
  }

  /**
   * Registers within what {@code exec} and the steps can reach: a role among the stages, a
   * phase of that role, ring counts that never pass each other or the ring size, the heap
   * mapped.
   */
  @Override
  public void checkRestored(ProcessView p) {
    String core = "core-" + p.pid() + ".img";
    if (p.threadCount() != 1) {
      throw new CorruptImageException(core, "pipe-chain: threads: actual=" + p.threadCount()
          + " expected=1");
    }
    ThreadView t = p.thread(0);
    long stages = t.gpr(R_STAGES);
    long role = t.gpr(R_ROLE);
    long phase = t.gpr(R_PHASE);
    long in = t.gpr(R_BYTES_IN);
    long consumed = t.gpr(R_CONSUMED);
    long produced = t.gpr(R_PRODUCED);
    long out = t.gpr(R_BYTES_OUT);
    long heapPages = t.gpr(R_HEAP_PAGES);
    boolean ok = stages >= 1 && stages <= MAX_STAGES && role >= 0 && role <= stages
        && phase >= 0 && phase <= (role == 0 ? PipeChainRoot.REAP : 1)
        && t.gpr(R_RECORDS) >= 0 && consumed >= 0 && consumed <= in
        && in - consumed <= RING_BYTES && out >= 0 && out <= produced
        && produced - out <= RING_BYTES
        && heapPages >= 1 && heapPages <= (1L << 20) * 256;
    if (!ok) {
      throw new CorruptImageException(core, String.format("pipe-chain: registers out of range"
          + " (role %d of %d stages, phase %d, ring counts %d/%d in, %d/%d out)", role, stages,
          phase, consumed, in, out, produced));
    }
    p.memory().pageForRead(HEAP_BASE + (heapPages - 1) * MemoryView.PAGE_SIZE);
    p.memory().pageForRead(PipeChainMemory.COUNTERS);
  }
}
