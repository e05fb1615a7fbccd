package dev.accr.kfd.driver;

import dev.accr.api.AccrException;
import java.util.Map;
import java.util.TreeMap;

/**
 * Hands out block-aligned ranges of a GPU's VRAM. CPU-visible allocations come from the
 * visible window at the bottom; others are placed above it when they fit, so the window stays
 * free for buffers that need it.
 */
final class VramAllocator {
  private final long capacity;
  private final long visible;
  private final TreeMap<Long, Long> used = new TreeMap<>(); // start -> length
  private long usedBytes;

  VramAllocator(long capacity, long visible) {
    this.capacity = capacity;
    this.visible = visible;
  }

  /** Allocates {@code length} bytes (rounded up to a block); returns the offset. */
  synchronized long allocate(long length, boolean cpuVisible, String gpu) {
    long size = roundUp(length);
    long at = cpuVisible ? firstFit(0, visible, size) : firstFit(visible, capacity, size);
    if (at < 0 && !cpuVisible) {
      at = firstFit(0, capacity, size);
    }
    if (at < 0) {
      throw AccrException.failed("kfd: out of %sVRAM on gpu %s: %d MiB requested, %d of %d MiB"
          + " in use", cpuVisible ? "CPU-visible " : "", gpu, size >> 20, usedBytes >> 20,
          (cpuVisible ? visible : capacity) >> 20);
    }
    used.put(at, size);
    usedBytes += size;
    return at;
  }

  /** Claims a given range (restore places buffers where the image says, if free). */
  synchronized boolean tryClaim(long at, long length) {
    long size = roundUp(length);
    if (at < 0 || at % Vram.BLOCK != 0 || at + size > capacity || !isFree(at, size)) {
      return false;
    }
    used.put(at, size);
    usedBytes += size;
    return true;
  }

  synchronized void free(long at) {
    Long size = used.remove(at);
    if (size != null) {
      usedBytes -= size;
    }
  }

  synchronized long usedBytes() {
    return usedBytes;
  }

  private boolean isFree(long at, long size) {
    Map.Entry<Long, Long> below = used.floorEntry(at + size - 1);
    return below == null || below.getKey() + below.getValue() <= at;
  }

  private long firstFit(long from, long to, long size) {
    long at = from;
    for (Map.Entry<Long, Long> e : used.tailMap(used.floorKey(from) == null ? from
        : used.floorKey(from)).entrySet()) {
      if (e.getKey() >= to) {
        break;
      }
      if (e.getKey() >= at + size) {
        break;
      }
      at = Math.max(at, e.getKey() + e.getValue());
    }
    return at + size <= to ? at : -1;
  }

  static long roundUp(long length) {
    return (length + Vram.BLOCK - 1) / Vram.BLOCK * Vram.BLOCK;
  }
}
