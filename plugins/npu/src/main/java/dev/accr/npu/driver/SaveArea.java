package dev.accr.npu.driver;

import dev.accr.api.CorruptImageException;
import dev.accr.api.MemoryView;
import dev.accr.api.Prot;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where a checkpoint puts an npu context in the process's host memory, like the host copies
 * cuda-checkpoint makes: a mapping named {@code npu-checkpoint} that the core dumps with the
 * rest of memory. Layout, 8-byte words:
 *
 * <pre>
 * header   MAGIC, VERSION, submitted, completed, nextVa, count, (va, size) x count
 * data     each allocation's bytes in address order, each starting on a page
 * </pre>
 *
 * Read back on restore, it is treated as untrusted: every count and range is checked before
 * anything is allocated.
 */
final class SaveArea {
  static final long MAGIC = 0x31564153_5550_4e00L; // an 8-byte tag: "\0NPUSAV1" read backwards
  static final long VERSION = 1;
  /** Save areas start here; each descriptor of a process gets its own slot. */
  static final long BASE = 0x7e00_0000_0000L;
  static final long SLOT = 0x10_0000_0000L;
  /** Slots a process may have: one per descriptor. */
  static final long MAX_SLOTS = 1 << 16;
  private static final int PAGE = MemoryView.PAGE_SIZE;
  private static final int HEADER_WORDS = 6;

  /** The state of a context as saved: counters, next address, allocations. */
  record State(long submitted, long completed, long nextVa, TreeMap<Long, Long> table) {}

  private SaveArea() {}

  static long address(int slot) {
    return BASE + slot * SLOT;
  }

  static long headerBytes(int count) {
    return pages(8L * (HEADER_WORDS + 2L * count));
  }

  static long length(Map<Long, Long> table) {
    long n = headerBytes(table.size());
    for (long size : table.values()) {
      n += pages(size);
    }
    return n;
  }

  private static long pages(long bytes) {
    return (bytes + PAGE - 1) / PAGE * PAGE;
  }

  /** Maps the area at {@code at} and writes the state and every allocation into it. */
  static long write(MemoryView host, long at, State state, DeviceMemory memory) {
    long length = length(state.table());
    host.mapAnonymous(at, length, Prot.RW, "npu-checkpoint");
    long[] header = {MAGIC, VERSION, state.submitted(), state.completed(), state.nextVa(),
        state.table().size()};
    long w = at;
    for (long v : header) {
      host.writeLong(w, v);
      w += 8;
    }
    for (Map.Entry<Long, Long> e : state.table().entrySet()) {
      host.writeLong(w, e.getKey());
      host.writeLong(w + 8, e.getValue());
      w += 16;
    }
    long data = at + headerBytes(state.table().size());
    for (Map.Entry<Long, Long> e : state.table().entrySet()) {
      MemorySegment src = memory.at(e.getKey(), e.getValue());
      for (long off = 0; off < e.getValue(); off += PAGE) {
        int n = (int) Math.min(PAGE, e.getValue() - off);
        MemorySegment chunk = src.asSlice(off, n);
        if (MemorySegment.mismatch(chunk, 0, n, ZERO, 0, n) >= 0) { // untouched pages stay so
          MemorySegment.copy(chunk, 0, host.pageForWrite(data + off), 0, n);
        }
      }
      data += pages(e.getValue());
    }
    return length;
  }

  /**
   * Where an image says an area is: page aligned whole pages within one slot of the save
   * areas, and a device byte count that is not negative.
   */
  static void checkPlace(long at, long length, long deviceBytes, String what) {
    boolean inSlots = at >= BASE && at % PAGE == 0 && (at - BASE) / SLOT < MAX_SLOTS
        && length >= PAGE && length % PAGE == 0 && length <= SLOT - (at - BASE) % SLOT;
    if (!inSlots || deviceBytes < 0) {
      throw corrupt(what, String.format("area at 0x%x of %d bytes (%d device bytes) is not"
          + " whole pages within a save slot", at, length, deviceBytes));
    }
  }

  private static final MemorySegment ZERO = java.lang.foreign.Arena.global().allocate(PAGE);

  /**
   * Reads and checks the header of the area at {@code at} of {@code length} bytes.
   *
   * @throws CorruptImageException naming the area if anything is out of range
   */
  static State read(MemoryView host, long at, long length, long deviceBytes, String what) {
    checkPlace(at, length, deviceBytes, what);
    if (length < PAGE || length % PAGE != 0 || at % PAGE != 0 || at < 0
        || at > Long.MAX_VALUE - length) {
      throw corrupt(what, String.format("area 0x%x+%d is not whole pages", at, length));
    }
    for (long off = 0; off < length; off += PAGE) { // all of it mapped: it is loaded from
      try {
        host.pageForRead(at + off);
      } catch (RuntimeException e) {
        throw corrupt(what, String.format("area 0x%x+%d: 0x%x is not mapped in the process", at,
            length, at + off));
      }
    }
    if (host.readLong(at) != MAGIC || host.readLong(at + 8) != VERSION) {
      throw corrupt(what, String.format("magic/version: actual=0x%x/%d expected=0x%x/%d",
          host.readLong(at), host.readLong(at + 8), MAGIC, VERSION));
    }
    long submitted = host.readLong(at + 16);
    long completed = host.readLong(at + 24);
    long nextVa = host.readLong(at + 32);
    long count = host.readLong(at + 40);
    if (completed < 0 || submitted != completed) {
      throw corrupt(what, "jobs submitted " + submitted + " but completed " + completed
          + " (a checkpoint is taken with no job in flight)");
    }
    if (count < 0 || count > (length / 16)) {
      throw corrupt(what, "allocation count " + count + " does not fit " + length + " bytes");
    }
    TreeMap<Long, Long> table = new TreeMap<>();
    long end = DeviceMemory.BASE;
    long total = headerBytes((int) count);
    for (int i = 0; i < count; i++) {
      long va = host.readLong(at + 8L * (HEADER_WORDS + 2 * i));
      long size = host.readLong(at + 8L * (HEADER_WORDS + 2 * i) + 8);
      if (va < end || size <= 0 || size > DeviceMemory.LIMIT || va > DeviceMemory.LIMIT - size
          || va % DeviceMemory.ALIGN != 0) {
        throw corrupt(what, String.format("allocation %d at 0x%x+%d overlaps, is unaligned or"
            + " leaves the device address space", i, va, size));
      }
      table.put(va, size);
      end = va + size;
      total += pages(size);
    }
    if (total != length || nextVa < end || nextVa > DeviceMemory.LIMIT) {
      throw corrupt(what, "allocations need " + total + " bytes of " + length
          + ", next address 0x" + Long.toHexString(nextVa));
    }
    long bytes = table.values().stream().mapToLong(Long::longValue).sum();
    if (bytes > deviceBytes) {
      throw corrupt(what, "allocations of " + bytes + " bytes; the image recorded " + deviceBytes);
    }
    return new State(submitted, completed, nextVa, table);
  }

  /** Copies every allocation from the area at {@code at} into freshly placed device memory. */
  static void load(MemoryView host, long at, State state, DeviceMemory memory) {
    long data = at + headerBytes(state.table().size());
    for (Map.Entry<Long, Long> e : state.table().entrySet()) {
      MemorySegment dst = memory.place(e.getKey(), e.getValue());
      for (long off = 0; off < e.getValue(); off += PAGE) {
        int n = (int) Math.min(PAGE, e.getValue() - off);
        MemorySegment.copy(host.pageForRead(data + off), 0, dst, off, n);
      }
      data += pages(e.getValue());
    }
  }

  private static CorruptImageException corrupt(String what, String detail) {
    return new CorruptImageException(what, "npu save area: " + detail);
  }
}
