package dev.accr.kernel;

import static dev.accr.api.MemoryView.PAGE_SIZE;

import dev.accr.api.AccrException;
import java.lang.foreign.MemorySegment;

/**
 * Writes of whole runs of pages into an address space, as restore and lazy restore make them:
 * a run's missing frames come as one block, cut from the address space's frame pool, and go
 * into the page table as one run, so that restoring a large process costs a few operations per
 * run, not per page.
 */
final class RunWrites {
  /** Shorter runs take frames from the shared slabs, one by one. */
  private static final int MIN_BLOCK_PAGES = 16;

  private final AddressSpace memory;
  private final FramePool frames;

  RunWrites(AddressSpace memory, FramePool frames) {
    this.memory = memory;
    this.frames = frames;
  }

  /** The index of page {@code address} in {@code vma}, checked to start a run of {@code pages}. */
  private static long firstIndex(Vma vma, long address, int pages) {
    long first = (address - vma.start()) / PAGE_SIZE;
    if (address % PAGE_SIZE != 0 || pages <= 0 || first + pages > vma.pageCount()) {
      throw AccrException.failed("write of %d pages at %x leaves %s", pages, address, vma);
    }
    return first;
  }

  /** See {@link AddressSpace#writePages}. */
  void write(Vma vma, long address, MemorySegment source, long sourceOffset, int pages) {
    long first = firstIndex(vma, address, pages);
    PageTable table = vma.pageTable();
    table.dirtyBits().mark(first, pages);
    if (pages < MIN_BLOCK_PAGES || vma.shared() != null) {
      for (int i = 0; i < pages; i++) {
        MemorySegment.copy(source, sourceOffset + (long) i * PAGE_SIZE,
            memory.pageForWrite(address + (long) i * PAGE_SIZE), 0, PAGE_SIZE);
      }
      return;
    }
    // First touch of fresh memory is the slow part: it happens outside any lock, in the copy.
    long block = frames.allocateBlock(pages);
    long adopted = table.fillAbsent(first, pages, block);
    frames.adopt((int) adopted);
    if (adopted == pages) {
      MemorySegment.copy(source, sourceOffset, frames.frames(block, pages), 0,
          (long) pages * PAGE_SIZE);
      return;
    }
    for (int i = 0; i < pages; i++) {
      MemorySegment.copy(source, sourceOffset + (long) i * PAGE_SIZE, table.get(first + i), 0,
          PAGE_SIZE);
    }
  }

  /** See {@link AddressSpace#freshRun}. */
  MemorySegment fresh(Vma vma, long address, int pages) {
    long first = firstIndex(vma, address, pages);
    if (vma.shared() != null) {
      return null; // the object's own frames: filled page by page
    }
    return vma.pageTable().freshRun(first, pages);
  }

  /** See {@link AddressSpace#unmappedRun}. */
  MemorySegment unmapped(int pages) {
    return frames.frames(frames.allocateBlock(pages), pages);
  }

  /** See {@link AddressSpace#installRun}. */
  int install(Vma vma, long address, MemorySegment block, int pages) {
    long first = firstIndex(vma, address, pages);
    PageTable table = vma.pageTable();
    FramePool owner = table.frames();
    long ref;
    if (owner == frames) {
      ref = frames.refOf(block);
    } else { // a shared object's table holds frames of the object's own pool
      ref = owner.allocateBlock(pages);
      MemorySegment.copy(block, 0, owner.frames(ref, pages), 0, (long) pages * PAGE_SIZE);
    }
    // Not marked written: the pages are the restored set's, which a dump on it has.
    int mapped = (int) table.fillAbsent(first, pages, ref);
    owner.adopt(mapped);
    return mapped;
  }
}
