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
  /** Whether writes are tracked, and the label of the current period (guarded by this). */
  private boolean tracking;
  private String trackingSince;

  SharedMemory(long id, String name, long length, NodeMemory accounting) {
    this.id = id;
    this.name = name;
    this.length = length;
    this.frames = new FramePool(accounting);
    this.pages = new PageTable(length / MemoryView.PAGE_SIZE, frames);
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
  MemorySegment install(long index) {
    return pages.install(index);
  }

  /** The frame of page {@code index}, or null if it was never touched. */
  public MemorySegment frame(long index) {
    return pages.get(index);
  }

  /**
   * Ends the object's current period of write tracking and starts one labelled {@code label}:
   * the object's pages are tracked once for all its mappings, so one holder's tracking step
   * does not restart another's. Returns the period that ended ({@code since} null: the
   * object's writes were not tracked before).
   */
  synchronized Ended trackWrites(String label) {
    Ended ended = new Ended(tracking ? trackingSince : null, pages.dirtyBits().swap(true));
    tracking = true;
    trackingSince = label;
    return ended;
  }

  /** The label of the object's current tracking period, or null when writes are not tracked. */
  public synchronized String trackingSince() {
    return tracking ? trackingSince : null;
  }

  /**
   * Gives the pages of the period that ended when the period {@code label} began back to it,
   * as if it had not ended (the dump that took them failed); nothing if another began since.
   */
  synchronized void putBack(String label, Ended ended) {
    if (!tracking || !label.equals(trackingSince)) {
      return;
    }
    if (ended.since() == null) {
      pages.dirtyBits().swap(false);
      tracking = false;
      trackingSince = null;
      return;
    }
    pages.dirtyBits().restore(ended.bits());
    trackingSince = ended.since();
  }

  /** A period of write tracking of the object that ended: its label and written pages. */
  record Ended(String since, long[][] bits) {}

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
