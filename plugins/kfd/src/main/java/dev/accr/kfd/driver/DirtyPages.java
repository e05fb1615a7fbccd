package dev.accr.kfd.driver;

import dev.accr.kfd.proto.BoDomain;
import java.util.List;

/**
 * What {@link KfdCriu#dirtyPages} returns: for every buffer and SVM range the process has now,
 * the 4 KiB pages written since tracking was last cleared, and the buffers freed since then.
 *
 * <p>Writes counted: kernels' stores (a dispatch's {@code KernelContext.page}), SDMA copies
 * into VRAM, GTT or USERPTR buffers or SVM pages, CPU stores through the visible VRAM window
 * ({@link KfdProcess#cpuWriteLong}, {@link KfdProcess#cpuWrite}), and SVM migrations: a page
 * that moved is marked in its range (its contents now live at the range's current residency
 * for that page; the old copy was zeroed). CPU stores to host memory (GTT, USERPTR, SVM pages
 * in system memory) are the host's soft-dirty tracking's business and are not seen here.
 *
 * @param bos every buffer of the process now, in GPU address order
 * @param svmRanges every SVM range now, in address order
 * @param freedHandles handles of buffers freed since the last clear (ascending); handles are
 *     never reused by a process, so a buffer allocated later, even at the same address, has
 *     another handle and {@link BoPages#created()} set
 */
public record DirtyPages(List<BoPages> bos, List<SvmPages> svmRanges,
    List<Integer> freedHandles) {

  public DirtyPages {
    bos = List.copyOf(bos);
    svmRanges = List.copyOf(svmRanges);
    freedHandles = List.copyOf(freedHandles);
  }

  /**
   * One buffer's written pages. Page {@code i} of {@code dirty} is the page at GPU address
   * {@code va + i * 4096}; for a VRAM buffer, at {@code vramOffset + i * 4096} of its GPU's
   * VRAM.
   *
   * @param created the buffer was allocated after the last clear (or the clear never saw it):
   *     it is new to the next dump, which must save all of it; {@code dirty} is then full
   */
  public record BoPages(int handle, int gpuId, BoDomain domain, long va, long size,
      boolean created, PageBitmap dirty) {}

  /**
   * One SVM range's written or moved pages; page {@code i} is at address
   * {@code start + i * 4096}.
   *
   * @param created the range was registered after the last clear; {@code dirty} is then full
   */
  public record SvmPages(long start, long size, boolean created, PageBitmap dirty) {}

  /** Pages marked in all buffers and ranges. */
  public long dirtyPageCount() {
    return bos.stream().mapToLong(b -> b.dirty().count()).sum()
        + svmRanges.stream().mapToLong(r -> r.dirty().count()).sum();
  }

  /** The buffer with {@code handle}, or null if it is not in the report. */
  public BoPages bo(int handle) {
    return bos.stream().filter(b -> b.handle() == handle).findFirst().orElse(null);
  }

  /** The SVM range starting at {@code start}, or null. */
  public SvmPages svmRange(long start) {
    return svmRanges.stream().filter(r -> r.start() == start).findFirst().orElse(null);
  }
}
