package dev.accr.workload;

import static dev.accr.workload.PipeChainMemory.HEAP_BASE;
import static dev.accr.workload.PipeChainMemory.R_BYTES_IN;
import static dev.accr.workload.PipeChainMemory.R_BYTES_OUT;
import static dev.accr.workload.PipeChainMemory.R_CHECKSUM;
import static dev.accr.workload.PipeChainMemory.R_CONSUMED;
import static dev.accr.workload.PipeChainMemory.R_FILE_FD;
import static dev.accr.workload.PipeChainMemory.R_HEAP_PAGES;
import static dev.accr.workload.PipeChainMemory.R_IN_FD;
import static dev.accr.workload.PipeChainMemory.R_OUT_FD;
import static dev.accr.workload.PipeChainMemory.R_PHASE;
import static dev.accr.workload.PipeChainMemory.R_PRODUCED;
import static dev.accr.workload.PipeChainMemory.R_ROLE;
import static dev.accr.workload.PipeChainMemory.R_STAGES;

import dev.accr.api.AccrException;
import dev.accr.api.MemoryView;
import dev.accr.api.ProcessView;
import dev.accr.api.ThreadView;
import dev.accr.workload.PipeChainIo.Fill;
import dev.accr.workload.PipeChainIo.Rec;

/**
 * A stage of {@code pipe-chain}: reads records from the pipe before it, transforms each,
 * counts it in the shared counters and writes it into the pipe after it; exits at end of file
 * once everything it read has gone on.
 */
final class PipeChainStage {
  /** Records a step handles at most, so that steps stay short. */
  static final int BATCH = 16;

  private PipeChainStage() {}

  static boolean step(ProcessView p) {
    ThreadView t = p.thread(0);
    if (t.gpr(R_PHASE) == 0) {
      closeOthers(p, t);
      t.setGpr(R_PHASE, 1);
    }
    int stage = (int) t.gpr(R_ROLE);
    for (int done = 0; done < BATCH; ) {
      if (!PipeChainIo.flush(p)) {
        return true; // the next stage is behind: sleep until it reads
      }
      if (PipeChainIo.recordIn(t) && PipeChainIo.roomOut(t)) {
        PipeChainIo.put(p, transform(p, t, stage, PipeChainIo.take(p)));
        done++;
        continue;
      }
      Fill fill = PipeChainIo.fill(p);
      if (fill == Fill.WOULD_BLOCK) {
        return true;
      }
      if (fill == Fill.END_OF_FILE) {
        if (t.gpr(R_BYTES_IN) != t.gpr(R_CONSUMED)) {
          throw AccrException.failed("pipe-chain stage %d: end of file inside a record", stage);
        }
        return t.gpr(R_PRODUCED) != t.gpr(R_BYTES_OUT); // exit once all is written
      }
    }
    return true;
  }

  private static Rec transform(ProcessView p, ThreadView t, int stage, Rec r) {
    long value = SplitMix.mix(r.value() + stage * 0x9E3779B97F4A7C15L);
    MemoryView m = p.memory();
    PipeChainMemory.add(m, PipeChainMemory.stageCount(stage), 1);
    PipeChainMemory.add(m, PipeChainMemory.stageSum(stage), value);
    PipeChainMemory.add(m, PipeChainMemory.TOTAL, 1);
    PipeChainMemory.xor(m, PipeChainMemory.XOR, value);
    long heapPage = Long.remainderUnsigned(r.seq(), t.gpr(R_HEAP_PAGES));
    m.writeLong(HEAP_BASE + heapPage * MemoryView.PAGE_SIZE + 8L * (stage % 512), value);
    t.setGpr(R_CHECKSUM, t.gpr(R_CHECKSUM) * 31 + value);
    t.setPc(t.pc() + 1); // records handled
    return new Rec(r.seq(), value, r.checksum() * 31 + value, r.hops() + 1);
  }

  /** Keeps only the pipe before and the pipe after: the ends others hold must see EOF. */
  private static void closeOthers(ProcessView p, ThreadView t) {
    int stages = (int) t.gpr(R_STAGES);
    int stage = (int) t.gpr(R_ROLE);
    for (int i = 0; i <= stages; i++) {
      for (int end = 0; end < 2; end++) {
        int fd = (int) p.memory().readLong(PipeChainMemory.pipeFdSlot(i, end));
        boolean mine = (i == stage - 1 && end == 0) || (i == stage && end == 1);
        if (!mine) {
          p.files().close(fd);
        }
      }
    }
    p.files().close((int) t.gpr(R_FILE_FD)); // the root's output: its position moves on
    t.setGpr(R_IN_FD, p.memory().readLong(PipeChainMemory.pipeFdSlot(stage - 1, 0)));
    t.setGpr(R_OUT_FD, p.memory().readLong(PipeChainMemory.pipeFdSlot(stage, 1)));
  }
}
