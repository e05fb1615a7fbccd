package dev.accr.kfd.workload;

import dev.accr.api.MemoryView;

/**
 * Where {@code kfd-ddp} keeps its state. The launcher's page (private: each worker gets a copy
 * at fork and keeps its own counters in it), a shared page where workers publish their pid and
 * dma-buf descriptor for their partner (cleared once every import is done, so that no pid stays
 * in memory), and shared host memory with one slot per worker for gradients that cross hives.
 */
final class DdpMemory {
  static final long PAGE = 0x0800_0000L;
  static final long TABLE = 0x0800_1000L;
  static final long EXCHANGE = 0x60_0000_0000L;

  static final int GPUS = 0;
  static final int STEPS = 1;
  static final int SEED = 2;
  static final int UNIT = 3;
  static final int MICROS = 4;
  static final int PAGES = 5;
  static final int ISA_COUNT = 6;
  static final int ISAS = 7; // up to 8
  static final int REPORT_READ = 16;
  static final int REPORT_WRITE = 17;
  static final int CMD = 18; // per worker: read end, write end
  static final int BARRIER = 60; // launcher: barriers passed
  static final int REPORT_BYTES = 61; // launcher: report bytes read
  static final int REAPED = 62;
  static final int STATUS_SUM = 63;
  static final int EXPECT_A = 65; // worker: SDMA completions asked for
  static final int EXPECT_B = 66; // worker: compute completions asked for
  static final int GRAD_FD = 67;

  /** Registers of thread 0: the step (as the other GPU programs), the phase and the role. */
  static final int R_STEP = 0;
  static final int R_PHASE = 1;
  static final int R_ROLE = 2; // 0 launcher, k > 0 worker of rank k - 1

  /** Bytes each worker writes to the report pipe at a barrier. */
  static final int REPORT = 8;

  private DdpMemory() {}

  static long get(MemoryView m, int field) {
    return m.readLong(PAGE + 8L * field);
  }

  static void set(MemoryView m, int field, long value) {
    m.writeLong(PAGE + 8L * field, value);
  }

  static int cmdRead(int rank) {
    return CMD + 2 * rank;
  }

  static int cmdWrite(int rank) {
    return CMD + 2 * rank + 1;
  }

  /** Barriers of a run: ready, imported, then two a step (gradients out, update done). */
  static long barriers(long steps) {
    return 2 + 2 * steps;
  }
}
