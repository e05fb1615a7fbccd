package dev.accr.kernel;

import dev.accr.api.MemoryView;
import java.lang.foreign.MemorySegment;

/**
 * A shared-memory object of the node's kernel (a MAP_SHARED anonymous region or a memfd): one
 * set of frames that every mapping of it, in any process, reads and writes. Its frames count
 * once in the node's memory, whatever the number of mappings, and are freed when the last
 * mapping or memfd descriptor that holds it goes.
 */
public final class SharedMemory {
  private final long id;
  private final String name;
  private final long length;
  private final PageTable pages;
  private final FramePool frames;
  private int holders = 1;

  SharedMemory(long id, String name, long length, NodeMemory accounting) {
    this.id = id;
    this.name = name;
    this.length = length;
    this.pages = new PageTable(length / MemoryView.PAGE_SIZE);
    this.frames = new FramePool(accounting);
  }

  /** The node-unique id of this object. */
  public long id() {
    return id;
  }

  public String name() {
    return name;
  }

  public long length() {
    return length;
  }

  /** Pages that hold frames. */
  public long residentPages() {
    return frames.frames();
  }

  /** Mappings and memfd descriptors that hold it, in all processes. */
  public synchronized int holders() {
    return holders;
  }

  PageTable pageTable() {
    return pages;
  }

  /** The frame of page {@code index}, allocated if the page was never touched. */
  synchronized MemorySegment install(long index) {
    MemorySegment frame = pages.get(index);
    if (frame == null) {
      frame = frames.allocate();
      pages.set(index, frame);
    }
    return frame;
  }

  /** The frame of page {@code index}, or null if it was never touched. */
  public MemorySegment frame(long index) {
    return pages.get(index);
  }

  synchronized void retain() {
    if (holders == 0) {
      throw new IllegalStateException("shared memory " + id + " is freed");
    }
    holders++;
  }

  /** Drops one holder; the last one frees the frames. */
  void release() {
    synchronized (this) {
      if (holders == 0 || --holders > 0) {
        return;
      }
    }
    frames.close();
  }

  @Override
  public String toString() {
    return "shm:[" + id + "] " + name;
  }
}
