package dev.accr.kfd.driver;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;

/**
 * The blocks of a {@link Vram} freed since it last needed them, cleared and kept mapped for the
 * next allocation, as a GPU's memory stays where it is when a buffer is freed (and a driver
 * clears freed memory before it hands it out again). Taking a block of fresh host memory costs
 * the host a page fault and a cleared page per page, and on a virtual machine often a fault of
 * its own host as well: several times the cost of writing memory that is already there, and
 * most of what restoring VRAM would cost.
 *
 * <p>A device never holds more host memory than the most it had in use, so never more than its
 * capacity. Spare blocks stay resident: memory the host may take back (MADV_FREE) is faulted in
 * again on its next write, which on a busy or virtual machine costs a restore more than all of
 * its copying. Not thread-safe: the owning {@link Vram} calls it under its monitor.
 */
final class SpareBlocks {
  /** One block of host memory and the arena that frees it. */
  record Block(Arena arena, MemorySegment memory) {}

  private final ArrayDeque<Block> spare = new ArrayDeque<>();

  /** Keeps a freed block (cleared) for {@link #take}. */
  void give(Block block) {
    spare.push(block);
  }

  /** The block freed last (most likely still in the caches), cleared, or null. */
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
