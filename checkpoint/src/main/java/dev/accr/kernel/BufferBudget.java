package dev.accr.kernel;

import dev.accr.api.AccrException;
import dev.accr.api.ZeroedMemory;
import java.lang.foreign.Arena;
import java.lang.ref.Cleaner;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * One bound on the bytes of bulk-I/O buffers (staging, compression, page-list buffers) that
 * all dumps and restores of a node hold at once. Each user asks for a grant of at least the
 * bytes it needs to make progress with a single buffer set and at most what it would like;
 * grants are served first come, first served, and a grant leaves room for the minimums of
 * those waiting behind it, so many users at once each get fewer buffers instead of some
 * getting none. A user takes one grant at a time and frees it before waiting for anything
 * else, so users never wait on each other in a circle. A minimum larger than the whole
 * budget is cut to the budget: one buffer set always fits.
 *
 * <p>Memory a grant {@linkplain Grant#allocate allocates} is kept when the grant ends, up to
 * {@link #keptLimit()} bytes, and handed to the next grants that ask for buffers of the same
 * size: fresh memory costs a page fault per page on first touch (on a virtual machine often
 * a slow one), memory used before does not, so operations one after the other do not pay
 * for it again and again. Kept memory is not counted in {@link #inUse()}: a node's buffers
 * take at most its capacity plus the kept limit (a quarter more).
 */
public final class BufferBudget {
  private final long capacity;
  private final ArrayDeque<Waiter> queue = new ArrayDeque<>(); // guarded by this
  private long inUse; // guarded by this
  private long peak; // guarded by this
  /** Memory of ended grants by size, most recently used first; unmapped once this is unreachable. */
  private final Map<Long, ArrayDeque<Kept>> kept = new HashMap<>(); // guarded by this
  private final long keptLimit;
  private long keptBytes; // guarded by this

  private record Waiter(long min) {}

  private record Kept(Arena arena, MemorySegment memory) {}

  /** Unmaps the kept memory of budgets nobody holds any more (a node closed, a tool done). */
  private static final Cleaner UNMAPPER = Cleaner.create();

  /** A budget of {@code capacity} bytes. */
  public BufferBudget(long capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("buffer budget " + capacity + " is not positive");
    }
    this.capacity = capacity;
    this.keptLimit = Math.min(capacity / 4, 64L << 20);
    Map<Long, ArrayDeque<Kept>> memory = kept;
    UNMAPPER.register(this, () -> {
      synchronized (memory) {
        memory.values().forEach(q -> q.forEach(k -> k.arena().close()));
        memory.clear();
      }
    });
  }

  /** A budget that never makes anyone wait (tools outside a node: check, inspect, bench). */
  public static BufferBudget unlimited() {
    return new BufferBudget(Long.MAX_VALUE / 4);
  }

  /** Bytes granted; freed by {@link #close}. */
  public final class Grant implements AutoCloseable {
    private final long bytes;
    private final List<Kept> allocated = new ArrayList<>(); // guarded by BufferBudget.this
    private boolean closed;

    private Grant(long bytes) {
      this.bytes = bytes;
    }

    public long bytes() {
      return bytes;
    }

    /** How many buffers of {@code size} bytes fit, at least one. */
    public int buffers(long size) {
      return (int) Math.max(1, Math.min(Integer.MAX_VALUE, bytes / Math.max(1, size)));
    }

    /**
     * {@code size} bytes of native memory, valid until this grant closes, with undefined
     * contents: memory an earlier grant of this budget used, when one kept a buffer of this
     * size, else fresh memory. The caller keeps within its grant's bytes.
     */
    public MemorySegment allocate(long size) {
      Kept k;
      synchronized (BufferBudget.this) {
        if (closed) {
          throw new IllegalStateException("grant already closed");
        }
        ArrayDeque<Kept> same = kept.get(size);
        k = same == null ? null : same.pollFirst();
        if (k != null) {
          keptBytes -= size;
          allocated.add(k);
          return k.memory();
        }
      }
      Arena arena = Arena.ofShared();
      k = new Kept(arena, ZeroedMemory.allocate(arena, size));
      synchronized (BufferBudget.this) {
        if (!closed) {
          allocated.add(k);
          return k.memory();
        }
      }
      arena.close();
      throw new IllegalStateException("grant already closed");
    }

    /**
     * Ends the grant. Memory it allocated must no longer be used: it is kept for the next
     * grants (or freed beyond {@link #keptLimit()}).
     */
    @Override
    public void close() {
      List<Kept> freed = new ArrayList<>();
      synchronized (BufferBudget.this) {
        if (closed) {
          return;
        }
        closed = true;
        inUse -= bytes;
        for (Kept k : allocated) {
          long size = k.memory().byteSize();
          if (keptBytes + size <= keptLimit()) {
            kept.computeIfAbsent(size, s -> new ArrayDeque<>()).addFirst(k);
            keptBytes += size;
          } else {
            freed.add(k);
          }
        }
        allocated.clear();
        BufferBudget.this.notifyAll();
      }
      freed.forEach(k -> k.arena().close());
    }
  }

  /** The most bytes of ended grants' memory kept for reuse: a quarter of the budget, at most 64 MiB. */
  public long keptLimit() {
    return keptLimit;
  }

  /** Bytes of ended grants' memory kept for reuse now. */
  public synchronized long keptBytes() {
    return keptBytes;
  }

  /** {@link #acquire(long, long, BooleanSupplier)} that is never given up. */
  public Grant acquire(long min, long max) {
    return acquire(min, max, () -> false);
  }

  /**
   * Waits for and takes between {@code min} and {@code max} bytes. While waiting, asks
   * {@code giveUp} now and then; when it says so, or the thread is interrupted, gives up with
   * an {@link AccrException} (exit code 1).
   */
  public synchronized Grant acquire(long min, long max, BooleanSupplier giveUp) {
    long need = Math.clamp(min, 1, capacity);
    long want = Math.clamp(max, need, capacity);
    Waiter me = new Waiter(need);
    queue.addLast(me);
    try {
      while (queue.peekFirst() != me || capacity - inUse < need) {
        if (giveUp.getAsBoolean()) {
          throw AccrException.failed("gave up waiting for %d bytes of I/O buffers", need);
        }
        wait(100);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw AccrException.failed("interrupted while waiting for I/O buffers");
    } finally {
      queue.remove(me);
      notifyAll(); // the next waiter may fit now, or move to the head
    }
    long othersNeed = 0;
    for (Waiter w : queue) {
      othersNeed = Math.min(capacity, othersNeed + w.min());
    }
    long free = capacity - inUse;
    long bytes = Math.max(need, Math.min(want, free - othersNeed));
    inUse += bytes;
    peak = Math.max(peak, inUse);
    return new Grant(bytes);
  }

  public long capacity() {
    return capacity;
  }

  /** Bytes granted now. */
  public synchronized long inUse() {
    return inUse;
  }

  /** The most bytes ever granted at once. */
  public synchronized long peak() {
    return peak;
  }
}
