package dev.accr.kfd.workload;

import dev.accr.api.MemoryView;
import java.lang.foreign.MemorySegment;

/** CPU copies between pages of a process's host memory. */
final class MemorySegmentCopy {
  private MemorySegmentCopy() {}

  static void page(MemoryView m, long from, long to) {
    MemorySegment.copy(m.pageForRead(from), 0, m.pageForWrite(to), 0, MemoryView.PAGE_SIZE);
  }
}
