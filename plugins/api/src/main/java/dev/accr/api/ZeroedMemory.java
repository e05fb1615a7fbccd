package dev.accr.api;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * Zeroed off-heap memory straight from the kernel, freed when its arena closes. Unlike {@link
 * Arena#allocate}, which clears every byte itself, memory the kernel hands out is already
 * zero: fresh page frames are then touched once (when written) instead of twice, which is most
 * of the cost of restoring memory. Simulated device memory is allocated the same way.
 *
 * <p>Blocks of {@link #LARGE} bytes or more are mapped anonymously, aligned to 2 MiB and marked
 * {@code MADV_HUGEPAGE}, so that where the kernel offers transparent huge pages one fault
 * brings in 2 MiB instead of 4 KiB. Where {@code mmap} or {@code madvise} is missing or
 * refuses, the block comes from the C library's {@code calloc} instead, quietly.
 */
public final class ZeroedMemory {
  /** Blocks from this size on are mapped on their own, huge-page aligned. */
  public static final long LARGE = 2L << 20;
  private static final long HUGE_PAGE = 2L << 20;
  private static final int PROT_READ_WRITE = 0x1 | 0x2;
  private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;
  private static final int MADV_HUGEPAGE = 14;

  private static final Linker LINKER = Linker.nativeLinker();
  private static final SymbolLookup LIBC = LINKER.defaultLookup();
  private static final MethodHandle CALLOC = handle("calloc",
      FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG))
      .orElseThrow();
  private static final MethodHandle FREE = handle("free",
      FunctionDescriptor.ofVoid(ValueLayout.ADDRESS)).orElseThrow();
  private static final MethodHandle MMAP = isLinux() ? handle("mmap",
      FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
          ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
          ValueLayout.JAVA_LONG)).orElse(null) : null;
  private static final MethodHandle MUNMAP = handle("munmap",
      FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG))
      .orElse(null);
  private static final MethodHandle MADVISE = handle("madvise",
      FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
          ValueLayout.JAVA_INT)).orElse(null);

  private ZeroedMemory() {}

  private static boolean isLinux() {
    return System.getProperty("os.name", "").toLowerCase().contains("linux");
  }

  private static Optional<MethodHandle> handle(String name, FunctionDescriptor descriptor) {
    return LIBC.find(name).map(symbol -> LINKER.downcallHandle(symbol, descriptor));
  }

  /** {@code bytes} of zeroed memory, valid until {@code arena} closes. */
  public static MemorySegment allocate(Arena arena, long bytes) {
    if (bytes >= LARGE && MMAP != null && MUNMAP != null) {
      MemorySegment mapped = mapHuge(arena, bytes);
      if (mapped != null) {
        return mapped;
      }
    }
    MemorySegment raw;
    try {
      raw = (MemorySegment) CALLOC.invokeExact(1L, bytes);
    } catch (Throwable t) {
      throw new IllegalStateException("calloc failed", t);
    }
    if (raw.equals(MemorySegment.NULL)) {
      throw new OutOfMemoryError("calloc of " + bytes + " bytes failed");
    }
    return raw.reinterpret(bytes, arena, ZeroedMemory::free);
  }

  /**
   * An anonymous mapping of {@code bytes} starting on a huge-page boundary (a huge page's
   * worth more is mapped and the ends unmapped), advised for huge pages; null when refused.
   */
  private static MemorySegment mapHuge(Arena arena, long bytes) {
    long length = (bytes + HUGE_PAGE - 1) & -HUGE_PAGE;
    MemorySegment raw;
    try {
      raw = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, length + HUGE_PAGE,
          PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0L);
    } catch (Throwable t) {
      return null;
    }
    if (raw.address() == -1L || raw.equals(MemorySegment.NULL)) {
      return null; // MAP_FAILED
    }
    long start = (raw.address() + HUGE_PAGE - 1) & -HUGE_PAGE;
    unmap(raw.address(), start - raw.address());
    unmap(start + length, raw.address() + HUGE_PAGE - start);
    MemorySegment block = MemorySegment.ofAddress(start);
    if (MADVISE != null) {
      try {
        int ignored = (int) MADVISE.invokeExact(block, length, MADV_HUGEPAGE);
      } catch (Throwable t) {
        // no huge pages: the block works with small ones
      }
    }
    return block.reinterpret(bytes, arena, s -> unmap(start, length));
  }

  private static void unmap(long address, long length) {
    if (length == 0) {
      return;
    }
    try {
      int ignored = (int) MUNMAP.invokeExact(MemorySegment.ofAddress(address), length);
    } catch (Throwable t) {
      throw new IllegalStateException("munmap failed", t);
    }
  }

  private static void free(MemorySegment segment) {
    try {
      FREE.invokeExact(segment);
    } catch (Throwable t) {
      throw new IllegalStateException("free failed", t);
    }
  }
}
