package dev.accr.kfd.workload;

import static dev.accr.kfd.workload.DdpMemory.*;

import dev.accr.api.AccrException;
import dev.accr.api.FileView;
import dev.accr.api.MemoryView;
import dev.accr.api.ProcessView;
import dev.accr.api.ThreadView;

/**
 * The launcher of {@code kfd-ddp}: forks one worker per GPU, then is the barrier of the
 * all-reduce: once every worker reported on the report pipe, it answers each on its command
 * pipe; after the last barrier it reaps the workers.
 */
final class DdpLauncher {
  static final int FORK = 0;
  static final int BARRIERS = 1;
  static final int REAP = 2;

  private DdpLauncher() {}

  static boolean step(ProcessView p) {
    ThreadView t = p.thread(0);
    return switch ((int) t.gpr(R_PHASE)) {
      case FORK -> fork(p, t);
      case BARRIERS -> barriers(p, t);
      default -> reap(p);
    };
  }

  private static boolean fork(ProcessView p, ThreadView t) {
    MemoryView m = p.memory();
    int gpus = (int) get(m, GPUS);
    for (int rank = 0; rank < gpus; rank++) {
      t.setGpr(R_ROLE, rank + 1); // what the child is: its copy of the registers says so
      t.setGpr(R_PHASE, DdpWorker.SETUP);
      p.fork();
    }
    t.setGpr(R_ROLE, 0);
    FileView f = p.files();
    f.close((int) get(m, REPORT_WRITE));
    for (int rank = 0; rank < gpus; rank++) {
      f.close((int) get(m, cmdRead(rank)));
    }
    t.setGpr(R_PHASE, BARRIERS);
    return true;
  }

  private static boolean barriers(ProcessView p, ThreadView t) {
    MemoryView m = p.memory();
    int gpus = (int) get(m, GPUS);
    byte[] buffer = new byte[REPORT * gpus];
    while (true) {
      long bytes = get(m, REPORT_BYTES);
      long barrier = get(m, BARRIER);
      long need = (barrier + 1) * REPORT * gpus - bytes;
      int n = p.files().read((int) get(m, REPORT_READ), buffer, 0, (int) need);
      if (n == FileView.WOULD_BLOCK) {
        return true;
      }
      if (n == 0) {
        throw AccrException.failed("kfd-ddp: a worker ended before barrier %d", barrier + 1);
      }
      set(m, REPORT_BYTES, bytes + n);
      if (n < need) {
        continue;
      }
      if (barrier == 1) {
        for (int i = 0; i < 2 * gpus; i++) {
          m.writeLong(TABLE + 8L * i, 0); // every import is done: no pid stays in memory
        }
      }
      for (int rank = 0; rank < gpus; rank++) {
        p.files().write((int) get(m, cmdWrite(rank)), new byte[] {1});
      }
      set(m, BARRIER, barrier + 1);
      if (barrier + 1 == DdpMemory.barriers(get(m, STEPS))) {
        t.setGpr(R_PHASE, REAP);
        return true;
      }
    }
  }

  private static boolean reap(ProcessView p) {
    MemoryView m = p.memory();
    int gpus = (int) get(m, GPUS);
    while (get(m, REAPED) < gpus) {
      int status = p.waitChild(-1);
      if (status == FileView.WOULD_BLOCK) {
        return true;
      }
      set(m, REAPED, get(m, REAPED) + 1);
      set(m, STATUS_SUM, get(m, STATUS_SUM) + status);
    }
    if (get(m, STATUS_SUM) != 0) {
      throw AccrException.failed("kfd-ddp: workers exited with statuses summing to %d",
          get(m, STATUS_SUM));
    }
    return false;
  }
}
