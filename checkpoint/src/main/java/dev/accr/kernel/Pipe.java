package dev.accr.kernel;

import dev.accr.api.AccrException;
import dev.accr.api.FileView;

/**
 * A pipe of the node's kernel: a bounded FIFO of bytes with the number of open read and write
 * ends. Reads and writes never block: they answer {@link FileView#WOULD_BLOCK} and note, in the
 * caller's {@link StepWaits}, what change would let them go on. One direction of a socket pair
 * is a pipe too.
 */
public final class Pipe {
  /**
   * The most a pipe may hold: Linux's default {@code /proc/sys/fs/pipe-max-size}, up to which
   * {@code F_SETPIPE_SZ} grows a pipe beyond its default {@link FileView#PIPE_CAPACITY}.
   */
  public static final int MAX_CAPACITY = 1 << 20;

  private final long id;
  private final byte[] ring;
  private final WaitEvent changed = new WaitEvent();
  private int head;
  private int size;
  private int readers;
  private int writers;

  Pipe(long id, int capacity) {
    if (capacity < 1 || capacity > MAX_CAPACITY) {
      throw new IllegalArgumentException("pipe capacity " + capacity + " is not in 1.."
          + MAX_CAPACITY);
    }
    this.id = id;
    this.ring = new byte[capacity];
  }

  /** The node-unique id of this pipe. */
  public long id() {
    return id;
  }

  public int capacity() {
    return ring.length;
  }

  /** Bytes buffered, written and not yet read. */
  public synchronized int buffered() {
    return size;
  }

  /** A copy of the bytes buffered, oldest first. */
  public synchronized byte[] contents() {
    byte[] out = new byte[size];
    copyOut(out, 0, size, head);
    return out;
  }

  /** Puts bytes into an empty pipe (restore refills a pipe with what it held). */
  public synchronized void fill(byte[] bytes) {
    if (size != 0 || bytes.length > ring.length) {
      throw AccrException.failed("pipe:[%d]: cannot refill %d bytes (holds %d of %d)", id,
          bytes.length, size, ring.length);
    }
    System.arraycopy(bytes, 0, ring, 0, bytes.length);
    head = 0;
    size = bytes.length;
    changed.signal();
  }

  public synchronized int readers() {
    return readers;
  }

  public synchronized int writers() {
    return writers;
  }

  synchronized void addReader() {
    readers++;
  }

  synchronized void addWriter() {
    writers++;
  }

  void closeReader() {
    synchronized (this) {
      readers--;
    }
    changed.signal();
  }

  void closeWriter() {
    synchronized (this) {
      writers--;
    }
    changed.signal();
  }

  /** Bytes read (at least 1), 0 at end of file, or WOULD_BLOCK noted in {@code waits}. */
  int read(byte[] buffer, int offset, int length, StepWaits waits) {
    java.util.Objects.checkFromIndexSize(offset, length, buffer.length);
    int n;
    synchronized (this) {
      if (length == 0) {
        return 0;
      }
      if (size == 0) {
        if (writers == 0) {
          return 0;
        }
        waits.note(changed, changed.version());
        return FileView.WOULD_BLOCK;
      }
      n = Math.min(length, size);
      copyOut(buffer, offset, n, head);
      head = (head + n) % ring.length;
      size -= n;
    }
    changed.signal();
    return n;
  }

  /**
   * Writes what fits ({@code all}: everything or nothing); the bytes written, or WOULD_BLOCK
   * noted in {@code waits} when nothing fits.
   */
  int write(byte[] buffer, int offset, int length, boolean all, StepWaits waits, String fdName) {
    java.util.Objects.checkFromIndexSize(offset, length, buffer.length);
    int n;
    synchronized (this) {
      if (readers == 0) {
        throw AccrException.failed("write: broken pipe (%s: no reader is left)", fdName);
      }
      int room = ring.length - size;
      if (all && length > room) {
        throw AccrException.failed("write: %s has room for %d of %d bytes (use writeSome)",
            fdName, room, length);
      }
      if (length == 0) {
        return 0;
      }
      if (room == 0) {
        waits.note(changed, changed.version());
        return FileView.WOULD_BLOCK;
      }
      n = Math.min(length, room);
      int tail = (head + size) % ring.length;
      int first = Math.min(n, ring.length - tail);
      System.arraycopy(buffer, offset, ring, tail, first);
      System.arraycopy(buffer, offset + first, ring, 0, n - first);
      size += n;
    }
    changed.signal();
    return n;
  }

  private void copyOut(byte[] out, int offset, int n, int from) {
    int first = Math.min(n, ring.length - from);
    System.arraycopy(ring, from, out, offset, first);
    System.arraycopy(ring, 0, out, offset + first, n - first);
  }

  @Override
  public String toString() {
    return "pipe:[" + id + "]";
  }
}
