package dev.accr.kfd.driver;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayDeque;

/**
 * The blocks of a {@link Vram} freed since it last needed them, kept mapped for the next
 * allocation, as a GPU's memory stays where it is when a buffer is freed. Taking a block of
 * fresh host memory costs the host a page fault and a cleared page per page, and on a virtual
 * machine often a fault of its own host as well: several times the cost of writing memory that
 * is already there, and most of what restoring VRAM would cost. A spare block is cleared when
 * taken again.
 *
 * <p>A device never holds more host memory than the most it had in use, so never more than its
 * capacity. Spare blocks are marked {@code MADV_FREE} where the OS offers it: the host may
 * reclaim them under memory pressure (a reclaimed page reads as zeros and is faulted in again
 * on its next write), and otherwise they are reused as they are. Not thread-safe: the owning
 * {@link Vram} calls it under its monitor.
 */
final class SpareBlocks {
  private static final int MADV_FREE = 8;
  private static final long HUGE_PAGE = 2L << 20;
  private static final MethodHandle MADVISE = madvise();

  /** One block of host memory and the arena that frees it. */
  record Block(Arena arena, MemorySegment memory) {}

  private final ArrayDeque<Block> spare = new ArrayDeque<>();

  private static MethodHandle madvise() {
    if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
      return null;
    }
    Linker linker = Linker.nativeLinker();
    return linker.defaultLookup().find("madvise").map(s -> linker.downcallHandle(s,
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_INT))).orElse(null);
  }

  /** Keeps a freed block for {@link #take}. */
  void give(Arena arena, MemorySegment memory) {
    if (MADVISE != null && memory.address() % HUGE_PAGE == 0) { // a block mapped on its own
      try {
        int ignored = (int) MADVISE.invokeExact(memory, memory.byteSize(), MADV_FREE);
      } catch (Throwable t) {
        // kept resident: reused all the same
      }
    }
    spare.push(new Block(arena, memory));
  }

  /**
   * The block freed last (most likely still in the caches), or null; the caller clears it
   * before use (outside the monitor: clearing 2 MiB must not hold up the device's other
   * allocations).
   */
  Block take() {
    return spare.poll();
  }

  int size() {
    return spare.size();
  }

  /** Unmaps every spare block. */
  void close() {
    for (Block b : spare) {
      b.arena().close();
    }
    spare.clear();
  }
}
