package dev.accr.kfd.driver;

import dev.accr.api.MemoryView;

/**
 * The packets of a queue's ring buffer, 64 bytes (8 words) each, written by the program into
 * host memory and read by the device, after AQL and SDMA packets:
 *
 * <pre>
 * DISPATCH   kernel, workgroups, kernargVa, completionEvent, deviceMicrosPerWorkgroup
 * COPY       srcVa, dstVa, bytes, completionEvent          (SDMA queues)
 * WAIT_EVENT event, count                                  (barrier on another queue's event)
 * SIGNAL     event
 * </pre>
 *
 * An event id of 0 means none.
 */
public final class Packets {
  public static final int SIZE = 64;
  public static final long DISPATCH = 1;
  public static final long COPY = 2;
  public static final long WAIT_EVENT = 3;
  public static final long SIGNAL = 4;

  private Packets() {}

  /** Writes a packet of up to 8 words at ring slot {@code index}. */
  public static void write(MemoryView memory, long ringVa, int slots, long index, long... words) {
    if (words.length > SIZE / 8) {
      throw new IllegalArgumentException("a packet has 8 words");
    }
    long at = ringVa + Math.floorMod(index, slots) * (long) SIZE;
    for (int i = 0; i < SIZE / 8; i++) {
      memory.writeLong(at + 8L * i, i < words.length ? words[i] : 0);
    }
  }

  static long word(MemoryView memory, long ringVa, int slots, long index, int word) {
    return memory.readLong(ringVa + Math.floorMod(index, slots) * (long) SIZE + 8L * word);
  }
}
