package dev.accr.workload;

import dev.accr.api.MemoryView;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * Where {@code pipe-chain} keeps its state in each process, and the byte rings it moves records
 * through. Registers of thread 0 (every process): see the R_ constants. Memory: a private heap
 * ({@code --mem-mib}), a control page (pipe descriptors, the root's counts), an input and an
 * output ring, and one MAP_SHARED page of counters all stages update.
 */
final class PipeChainMemory {
  static final long HEAP_BASE = 0x1000_0000L;
  static final long CONTROL = 0x3000_0000L;
  static final long IN_RING = 0x4000_0000L;
  static final long OUT_RING = 0x5000_0000L;
  static final long COUNTERS = 0x7e00_0000_0000L;
  static final int RING_BYTES = 16 * 1024;
  static final int RECORD_BYTES = 32;
  static final int MAX_STAGES = 64;

  /** Registers of thread 0. */
  static final int R_ROLE = 0; // 0: the root; k: stage k
  static final int R_PHASE = 1;
  static final int R_STAGES = 2;
  static final int R_RECORDS = 3;
  static final int R_SEED = 4;
  static final int R_IN_FD = 5;
  static final int R_OUT_FD = 6;
  static final int R_BYTES_IN = 7; // bytes read into the input ring
  static final int R_CONSUMED = 8; // bytes of it handled
  static final int R_PRODUCED = 9; // bytes put into the output ring
  static final int R_BYTES_OUT = 10; // bytes of it written out
  static final int R_CHECKSUM = 11;
  static final int R_FILE_FD = 12; // the root's output file
  static final int R_HEAP_PAGES = 13;

  /** The root's counts in the control page. */
  static final long GENERATED = CONTROL + 2048;
  static final long RECEIVED = CONTROL + 2056;
  static final long REAPED = CONTROL + 2064;
  static final long STATUS_SUM = CONTROL + 2072;

  /** Shared counters: records and the xor of their values over all stages, then per stage. */
  static final long TOTAL = COUNTERS;
  static final long XOR = COUNTERS + 8;

  static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

  private PipeChainMemory() {}

  /** The control-page slot of pipe {@code i}'s read ({@code end} 0) or write end (1). */
  static long pipeFdSlot(int i, int end) {
    return CONTROL + 16L * i + 8L * end;
  }

  static long stageCount(int stage) {
    return COUNTERS + 16 + 16L * stage;
  }

  static long stageSum(int stage) {
    return COUNTERS + 24 + 16L * stage;
  }

  /** Adds to a shared counter atomically: additions commute, so the order of stages does not matter. */
  static void add(MemoryView m, long address, long delta) {
    MemorySegment page = m.pageForWrite(address);
    LONG.getAndAdd(page, address % MemoryView.PAGE_SIZE, delta);
  }

  static void xor(MemoryView m, long address, long bits) {
    MemorySegment page = m.pageForWrite(address);
    LONG.getAndBitwiseXor(page, address % MemoryView.PAGE_SIZE, bits);
  }

  /** Copies {@code n} bytes into the ring at byte position {@code at} (wrapping). */
  static void putRing(MemoryView m, long ring, long at, byte[] src, int off, int n) {
    for (int i = 0; i < n; ) {
      long pos = (at + i) % RING_BYTES;
      long address = ring + pos;
      int inPage = (int) Math.min(n - i, Math.min(RING_BYTES - pos,
          MemoryView.PAGE_SIZE - address % MemoryView.PAGE_SIZE));
      MemorySegment.copy(src, off + i, m.pageForWrite(address), ValueLayout.JAVA_BYTE,
          address % MemoryView.PAGE_SIZE, inPage);
      i += inPage;
    }
  }

  /** Copies {@code n} bytes out of the ring from byte position {@code at} (wrapping). */
  static void getRing(MemoryView m, long ring, long at, byte[] dst, int off, int n) {
    for (int i = 0; i < n; ) {
      long pos = (at + i) % RING_BYTES;
      long address = ring + pos;
      int inPage = (int) Math.min(n - i, Math.min(RING_BYTES - pos,
          MemoryView.PAGE_SIZE - address % MemoryView.PAGE_SIZE));
      MemorySegment.copy(m.pageForRead(address), ValueLayout.JAVA_BYTE,
          address % MemoryView.PAGE_SIZE, dst, off + i, inPage);
      i += inPage;
    }
  }
}
