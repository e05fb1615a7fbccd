package dev.accr.kfd.driver;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** What a running workgroup sees: its arguments and memory as its GPU reaches it. */
public final class KernelContext {
  private final GpuVm vm;
  private final int gpuId;
  private final long kernargVa;

  KernelContext(GpuVm vm, int gpuId, long kernargVa) {
    this.vm = vm;
    this.gpuId = gpuId;
    this.kernargVa = kernargVa;
  }

  /** The process-visible id of the GPU running the kernel. */
  public int gpuId() {
    return gpuId;
  }

  /** Argument {@code i} (0..7) from the kernarg segment. */
  public long arg(int i) {
    return vm.access(gpuId, kernargVa + 8L * i, 8, false).get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
  }

  /**
   * The page at {@code va} (page aligned) as this GPU reaches it, for writing: its VRAM, a
   * peer's VRAM over a link, host memory, or an SVM page (which may migrate first). The page
   * counts as written (dirty tracking), so a kernel takes pages it only reads with {@link
   * #readPage}.
   */
  public MemorySegment page(long va) {
    return vm.access(gpuId, va, GpuVm.PAGE, true);
  }

  /** The page at {@code va} (page aligned) for reading only: a store through it fails. */
  public MemorySegment readPage(long va) {
    return vm.access(gpuId, va, GpuVm.PAGE, false);
  }
}
