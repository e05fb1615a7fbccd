package dev.accr.kernel;

import dev.accr.api.AccrException;
import dev.accr.api.MemoryView;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The mappings of an {@link AddressSpace} by start address, with the limits a new one must
 * keep: page aligned, inside the address space, under the mapping limit, overlapping none.
 * Not synchronized: the address space calls it holding its own lock.
 */
final class Mappings {
  private static final long PAGE_SIZE = MemoryView.PAGE_SIZE;

  private final TreeMap<Long, Vma> vmas = new TreeMap<>();
  private long mapped;
  private long mappedHost;

  static void checkRange(long start, long length) {
    if (start % PAGE_SIZE != 0 || length % PAGE_SIZE != 0 || length <= 0 || start < 0) {
      throw AccrException.failed("mmap: range %x+%x is not page aligned", start, length);
    }
  }

  /** Fails unless a mapping of {@code start, length} may be added. */
  void checkFree(long start, long length) {
    checkRange(start, length);
    if (start > AddressSpace.MAX_ADDRESS - length
        || mapped + length > AddressSpace.MAX_MAPPED_BYTES) {
      throw AccrException.failed("mmap: range %x+%x is outside the address space or over the"
          + " %d GiB mapping limit", start, length, AddressSpace.MAX_MAPPED_BYTES >> 30);
    }
    Map.Entry<Long, Vma> below = vmas.floorEntry(start + length - 1);
    if (below != null && below.getValue().end() > start) {
      throw AccrException.failed("mmap: range %x+%x overlaps %s", start, length, below.getValue());
    }
  }

  /** Adds {@code vma}, which {@link #checkFree} allowed. */
  void add(Vma vma) {
    vmas.put(vma.start(), vma);
    mapped += vma.length();
    if (vma.kind() != Vma.Kind.DEVICE) {
      mappedHost += vma.length();
    }
  }

  /** The mapping of exactly {@code start, length}, or null. */
  Vma exactly(long start, long length) {
    Vma vma = vmas.get(start);
    return vma == null || vma.length() != length ? null : vma;
  }

  void remove(Vma vma) {
    vmas.remove(vma.start());
    mapped -= vma.length();
    if (vma.kind() != Vma.Kind.DEVICE) {
      mappedHost -= vma.length();
    }
  }

  /** The mapping that contains {@code address}, or null. */
  Vma find(long address) {
    Map.Entry<Long, Vma> e = vmas.floorEntry(address);
    return e != null && e.getValue().contains(address) ? e.getValue() : null;
  }

  /** Bytes of host memory mapped (device mappings not counted). */
  long mappedHostBytes() {
    return mappedHost;
  }

  /** The mappings in address order, a copy. */
  List<Vma> list() {
    return new ArrayList<>(vmas.values());
  }

  /** The mappings in address order, a live view. */
  Collection<Vma> values() {
    return vmas.values();
  }

  /** The mappings by start address, a live view. */
  NavigableMap<Long, Vma> byStart() {
    return vmas;
  }

  void clear() {
    vmas.clear();
    mapped = 0;
    mappedHost = 0;
  }
}
