package dev.accr.workload;

import static dev.accr.workload.PipeChainMemory.GENERATED;
import static dev.accr.workload.PipeChainMemory.RECEIVED;
import static dev.accr.workload.PipeChainMemory.REAPED;
import static dev.accr.workload.PipeChainMemory.R_CHECKSUM;
import static dev.accr.workload.PipeChainMemory.R_FILE_FD;
import static dev.accr.workload.PipeChainMemory.R_IN_FD;
import static dev.accr.workload.PipeChainMemory.R_OUT_FD;
import static dev.accr.workload.PipeChainMemory.R_PHASE;
import static dev.accr.workload.PipeChainMemory.R_RECORDS;
import static dev.accr.workload.PipeChainMemory.R_ROLE;
import static dev.accr.workload.PipeChainMemory.R_SEED;
import static dev.accr.workload.PipeChainMemory.R_STAGES;
import static dev.accr.workload.PipeChainMemory.STATUS_SUM;

import dev.accr.api.AccrException;
import dev.accr.api.FileView;
import dev.accr.api.MemoryView;
import dev.accr.api.ProcessView;
import dev.accr.api.ThreadView;
import dev.accr.workload.PipeChainIo.Fill;
import dev.accr.workload.PipeChainIo.Rec;
import java.nio.charset.StandardCharsets;

/**
 * The root of {@code pipe-chain}: forks the stages, feeds records into the first pipe, logs
 * each record that comes back from the last one, and only when every record is back (so no
 * stage will touch the shared counters again) closes the first pipe: the stages then exit in
 * turn at end of file, and the root reaps them and writes a summary of the shared counters.
 */
final class PipeChainRoot {
  static final int FORK = 0;
  static final int RUN = 1;
  static final int DRAIN = 2;
  static final int REAP = 3;

  private PipeChainRoot() {}

  static boolean step(ProcessView p) {
    ThreadView t = p.thread(0);
    return switch ((int) t.gpr(R_PHASE)) {
      case FORK -> forkStages(p, t);
      case RUN -> run(p, t);
      case DRAIN -> drain(p, t);
      default -> reap(p, t);
    };
  }

  private static boolean forkStages(ProcessView p, ThreadView t) {
    int stages = (int) t.gpr(R_STAGES);
    for (int k = 1; k <= stages; k++) {
      t.setGpr(R_ROLE, k); // what the child is: its copy of the registers says so
      p.fork();
    }
    t.setGpr(R_ROLE, 0);
    MemoryView m = p.memory();
    for (int i = 0; i <= stages; i++) {
      for (int end = 0; end < 2; end++) {
        boolean mine = (i == 0 && end == 1) || (i == stages && end == 0);
        if (!mine) {
          p.files().close((int) m.readLong(PipeChainMemory.pipeFdSlot(i, end)));
        }
      }
    }
    t.setGpr(R_OUT_FD, m.readLong(PipeChainMemory.pipeFdSlot(0, 1)));
    t.setGpr(R_IN_FD, m.readLong(PipeChainMemory.pipeFdSlot(stages, 0)));
    t.setGpr(R_PHASE, RUN);
    return true;
  }

  private static boolean run(ProcessView p, ThreadView t) {
    MemoryView m = p.memory();
    long records = t.gpr(R_RECORDS);
    for (int budget = PipeChainStage.BATCH; ; ) {
      boolean flushed = PipeChainIo.flush(p);
      long generated = m.readLong(GENERATED);
      if (flushed && generated < records && PipeChainIo.roomOut(t)) {
        if (budget-- == 0) {
          return true; // enough for one step; nothing noted, so the next comes at once
        }
        long value = SplitMix.mix(t.gpr(R_SEED) + generated * 0x9E3779B97F4A7C15L);
        PipeChainIo.put(p, new Rec(generated, value, 0, 0));
        m.writeLong(GENERATED, generated + 1);
        continue;
      }
      if (PipeChainIo.recordIn(t)) {
        log(p, t, PipeChainIo.take(p));
        continue;
      }
      Fill fill = PipeChainIo.fill(p);
      if (fill == Fill.READ) {
        continue;
      }
      if (fill == Fill.END_OF_FILE) {
        throw AccrException.failed("pipe-chain: the last stage ended after %d of %d records",
            m.readLong(RECEIVED), records);
      }
      break;
    }
    if (m.readLong(RECEIVED) == records) {
      p.files().close((int) t.gpr(R_OUT_FD)); // every record is back: let the stages end
      t.setGpr(R_PHASE, DRAIN);
    }
    return true;
  }

  private static void log(ProcessView p, ThreadView t, Rec r) {
    MemoryView m = p.memory();
    long received = m.readLong(RECEIVED);
    if (r.seq() != received || r.hops() != t.gpr(R_STAGES)) {
      throw AccrException.failed("pipe-chain: record %d came back as %d after %d stages",
          received, r.seq(), r.hops());
    }
    write(p, t, String.format("%d %016x %016x%n", r.seq(), r.value(), r.checksum()));
    t.setGpr(R_CHECKSUM, t.gpr(R_CHECKSUM) * 31 + r.checksum());
    m.writeLong(RECEIVED, received + 1);
  }

  private static boolean drain(ProcessView p, ThreadView t) {
    Fill fill = PipeChainIo.fill(p);
    if (fill == Fill.WOULD_BLOCK) {
      return true;
    }
    if (fill != Fill.END_OF_FILE) {
      throw AccrException.failed("pipe-chain: bytes after the last record");
    }
    p.files().close((int) t.gpr(R_IN_FD));
    t.setGpr(R_PHASE, REAP);
    return true;
  }

  private static boolean reap(ProcessView p, ThreadView t) {
    MemoryView m = p.memory();
    int stages = (int) t.gpr(R_STAGES);
    while (m.readLong(REAPED) < stages) {
      int status = p.waitChild(-1); // any child: no pid is kept, so none reaches the digest
      if (status == FileView.WOULD_BLOCK) {
        return true;
      }
      m.writeLong(REAPED, m.readLong(REAPED) + 1);
      m.writeLong(STATUS_SUM, m.readLong(STATUS_SUM) + status);
    }
    StringBuilder summary = new StringBuilder(String.format(
        "stages %d records %d counted %d xor %016x exit statuses %d%n", stages,
        m.readLong(RECEIVED), m.readLong(PipeChainMemory.TOTAL),
        m.readLong(PipeChainMemory.XOR), m.readLong(STATUS_SUM)));
    for (int k = 1; k <= stages; k++) {
      summary.append(String.format("stage %d records %d sum %016x%n", k,
          m.readLong(PipeChainMemory.stageCount(k)), m.readLong(PipeChainMemory.stageSum(k))));
    }
    write(p, t, summary.toString());
    return false;
  }

  private static void write(ProcessView p, ThreadView t, String text) {
    p.files().write((int) t.gpr(R_FILE_FD), text.getBytes(StandardCharsets.US_ASCII));
  }
}
