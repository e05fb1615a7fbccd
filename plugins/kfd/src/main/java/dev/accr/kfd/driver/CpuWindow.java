package dev.accr.kfd.driver;

import dev.accr.api.AccrException;
import dev.accr.kfd.proto.BoDomain;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** CPU loads and stores to VRAM buffers through the CPU-visible window (the BAR). */
final class CpuWindow {
  private CpuWindow() {}

  /** See {@link KfdProcess#cpuReadLong}. */
  static long readLong(GpuVm vm, long va) {
    Bo bo = windowBo(vm, va, 8);
    return bo.gpu().vram().forRead(bo.vramOffset() + (va - bo.va()), 8)
        .get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
  }

  /** See {@link KfdProcess#cpuWriteLong}. */
  static void writeLong(GpuVm vm, long va, long value) {
    Bo bo = windowBo(vm, va, 8);
    long offset = bo.vramOffset() + (va - bo.va());
    if (offset / Vram.BLOCK != (offset + 7) / Vram.BLOCK) {
      throw AccrException.failed("kfd: 0x%x: an 8-byte store must not cross 2 MiB", va);
    }
    bo.gpu().vram().forWrite(offset, 8).set(ValueLayout.JAVA_LONG_UNALIGNED, 0, value);
    bo.written(va, 8);
  }

  /** See {@link KfdProcess#cpuWrite}. */
  static void write(GpuVm vm, long va, MemorySegment src) {
    Bo bo = windowBo(vm, va, src.byteSize());
    bo.gpu().vram().copyIn(src, 0, bo.vramOffset() + (va - bo.va()), src.byteSize());
    bo.written(va, src.byteSize());
  }

  /** The VRAM buffer holding {@code [va, va + length)} within the CPU-visible window. */
  private static Bo windowBo(GpuVm vm, long va, long length) {
    Bo bo = vm.boAt(va);
    if (bo == null || bo.domain() != BoDomain.VRAM || va + length > bo.end()) {
      throw AccrException.failed("kfd: 0x%x+%d is not in a VRAM buffer", va, length);
    }
    long offset = bo.vramOffset() + (va - bo.va());
    if (offset + length > bo.gpu().vram().visibleBytes()) {
      throw AccrException.failed("kfd: %s lies outside the CPU-visible VRAM window (%d MiB)",
          bo, bo.gpu().vram().visibleBytes() >> 20);
    }
    return bo;
  }
}
