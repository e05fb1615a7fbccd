package dev.accr.kernel;

import dev.accr.api.AccrException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
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
 */
public final class BufferBudget {
  private final long capacity;
  private final ArrayDeque<Waiter> queue = new ArrayDeque<>(); // guarded by this
  private long inUse; // guarded by this
  private long peak; // guarded by this

  private record Waiter(long min) {}

  /** Spare buffers kept for reuse, at most this many bytes of them. */
  private static final long SPARE_BYTES = 16L << 20;
  private final ArrayDeque<MemorySegment> spare = new ArrayDeque<>(); // guarded by this
  private long spareBytes; // guarded by this

  /** A budget of {@code capacity} bytes. */
  public BufferBudget(long capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("buffer budget " + capacity + " is not positive");
    }
    this.capacity = capacity;
  }

  /** A budget that never makes anyone wait (tools outside a node: check, inspect, bench). */
  public static BufferBudget unlimited() {
    return new BufferBudget(Long.MAX_VALUE / 4);
  }

  /** Bytes granted; freed by {@link #close}. */
  public final class Grant implements AutoCloseable {
    private final long bytes;
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

    @Override
    public void close() {
      synchronized (BufferBudget.this) {
        if (closed) {
          return;
        }
        closed = true;
        inUse -= bytes;
        BufferBudget.this.notifyAll();
      }
    }
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

  /**
   * A buffer of {@code bytes} bytes (contents undefined), one given back earlier when there is
   * one of that size: memory touched for the first time costs far more than memory reused
   * (on a VM each first touch is a fault the host serves too), so a short dump should not pay
   * for fresh buffers. Counts against no grant: take it under one.
   */
  public MemorySegment buffer(long bytes) {
    synchronized (this) {
      for (MemorySegment s : spare) {
        if (s.byteSize() == bytes) {
          spare.remove(s);
          spareBytes -= bytes;
          return s;
        }
      }
    }
    return Arena.ofAuto().allocate(bytes, 4096);
  }

  /** Keeps a buffer of {@link #buffer} for reuse, while few bytes are kept. */
  public synchronized void giveBack(MemorySegment buffer) {
    if (spareBytes + buffer.byteSize() <= Math.min(SPARE_BYTES, capacity)) {
      spare.push(buffer);
      spareBytes += buffer.byteSize();
    }
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
