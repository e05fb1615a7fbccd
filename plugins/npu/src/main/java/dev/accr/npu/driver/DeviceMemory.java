package dev.accr.npu.driver;

import dev.accr.api.AccrException;
import dev.accr.api.ZeroedMemory;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.TreeMap;

/**
 * The device memory one process holds on an npu: allocations at device addresses of the
 * process's own device address space, each backed by off-heap memory and counted against the
 * npu. Device addresses are handed out in order and are what programs keep in their host
 * memory, so a restore must recreate every allocation at the same address.
 */
final class DeviceMemory implements AutoCloseable {
  /** Device addresses start here; allocations are aligned to {@link #ALIGN}. */
  static final long BASE = 0x1_0000_0000L;
  static final long ALIGN = 64 << 10;
  /** The top of the device address space. */
  static final long LIMIT = 1L << 44;

  private record Allocation(long size, Arena arena, MemorySegment data) {}

  private final TreeMap<Long, Allocation> allocations = new TreeMap<>();
  private Npu npu;
  private long nextVa = BASE;
  private long bytes;

  DeviceMemory(Npu npu) {
    this.npu = npu;
  }

  Npu npu() {
    return npu;
  }

  /** Allocates {@code size} bytes at the next free device address and returns it. */
  synchronized long allocate(long size) {
    if (size <= 0 || size > LIMIT - nextVa) {
      throw AccrException.failed("%s: cannot allocate %d bytes", npu, size);
    }
    long va = nextVa;
    place(va, size);
    nextVa = align(va + size);
    return va;
  }

  /** Recreates an allocation at {@code va} (restore). */
  synchronized MemorySegment place(long va, long size) {
    npu.reserve(size);
    Arena arena = Arena.ofShared();
    MemorySegment data;
    try {
      data = ZeroedMemory.allocate(arena, size);
    } catch (RuntimeException | OutOfMemoryError e) {
      arena.close();
      npu.release(size);
      throw e;
    }
    allocations.put(va, new Allocation(size, arena, data));
    bytes += size;
    return data;
  }

  static long align(long va) {
    return (va + ALIGN - 1) & -ALIGN;
  }

  /** The device memory at {@code va} for {@code length} bytes (inside one allocation). */
  synchronized MemorySegment at(long va, long length) {
    Map.Entry<Long, Allocation> e = allocations.floorEntry(va);
    if (e == null || length < 0 || va - e.getKey() + length > e.getValue().size()) {
      throw new NpuFault(String.format("device address 0x%x+%d is not allocated", va, length));
    }
    return e.getValue().data().asSlice(va - e.getKey(), length);
  }

  /** Device address -> size of every allocation, in address order. */
  synchronized TreeMap<Long, Long> table() {
    TreeMap<Long, Long> t = new TreeMap<>();
    allocations.forEach((va, a) -> t.put(va, a.size()));
    return t;
  }

  synchronized long nextVa() {
    return nextVa;
  }

  /** Bytes allocated. */
  synchronized long bytes() {
    return bytes;
  }

  /** Makes the allocations live on {@code target} from now on, with {@code next} as next va. */
  synchronized void rebind(Npu target, long next) {
    if (!allocations.isEmpty()) {
      throw new IllegalStateException("device memory is still held on " + npu);
    }
    npu = target;
    nextVa = next;
  }

  /** Frees every allocation (checkpoint released the device, or the descriptor closed). */
  @Override
  public synchronized void close() {
    for (Allocation a : allocations.values()) {
      a.arena().close();
    }
    allocations.clear();
    npu.release(bytes);
    bytes = 0;
  }
}
