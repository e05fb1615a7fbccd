package dev.accr.kernel;

import dev.accr.api.MemoryView;
import dev.accr.api.Prot;
import java.lang.foreign.MemorySegment;

/** One mapping of an address space: a page-aligned range with protection and its pages. */
public final class Vma {
  /** What backs a mapping. */
  public enum Kind {
    ANON,
    FILE,
    DEVICE
  }

  private final long start;
  private final long length;
  private final int prot;
  private final Kind kind;
  private final String name;
  private final String path;
  private final long offset;
  private final PageTable pages;
  /** The shared-memory object a MAP_SHARED mapping shows, or null for a private mapping. */
  private final SharedMemory shared;
  /** Mapped while writes were tracked: every page of it counts as written (guarded by the address space). */
  boolean mappedWhileTracked;

  Vma(long start, long length, int prot, Kind kind, String name, String path, long offset,
      PageTable pages, SharedMemory shared) {
    this.start = start;
    this.length = length;
    this.prot = prot;
    this.kind = kind;
    this.name = name;
    this.path = path;
    this.offset = offset;
    this.shared = shared;
    this.pages = pages;
  }

  /**
   * The shared-memory object this mapping shows (MAP_SHARED anonymous memory, kind ANON, or a
   * memfd, kind FILE), or null for a private mapping. Its pages are the object's pages.
   */
  public SharedMemory shared() {
    return shared;
  }

  public long start() {
    return start;
  }

  public long length() {
    return length;
  }

  public long end() {
    return start + length;
  }

  public int prot() {
    return prot;
  }

  public Kind kind() {
    return kind;
  }

  public String name() {
    return name;
  }

  public String path() {
    return path;
  }

  public long offset() {
    return offset;
  }

  public long pageCount() {
    return pages.pages();
  }

  boolean contains(long address) {
    return address >= start && address < start + length;
  }

  PageTable pageTable() {
    return pages;
  }

  /** Visits the pages that were ever touched, in address order, with their addresses. */
  public void forEachTouchedPage(TouchedPageVisitor visitor) {
    pages.forEach((index, frame) -> visitor.visit(start + index * MemoryView.PAGE_SIZE, frame));
  }

  /** The number of pages that were ever touched (that have frames). */
  public long touchedPages() {
    return pages.touchedPages();
  }

  /**
   * The index of the first touched page at or after page {@code index} of this mapping, or -1:
   * a walk that skips untouched stretches, however large, without visiting them.
   */
  public long nextTouchedPage(long index) {
    return pages.nextTouched(index);
  }

  /** The frame of page {@code index} of this mapping, or null if it was never touched. */
  public MemorySegment frame(long index) {
    return pages.get(index);
  }

  /**
   * How many pages from page {@code index} on, at most {@code max}, are touched and have
   * frames that follow each other in memory (0: page {@code index} is not touched): a run that
   * {@link #frames} gives as one segment.
   */
  public int frameRun(long index, int max) {
    return pages.frameRun(index, max);
  }

  /** The frames of the {@code count} pages from page {@code index} on, a run of {@link #frameRun}. */
  public MemorySegment frames(long index, int count) {
    long ref = pages.ref(index);
    if (ref == 0 || pages.frameRun(index, count) < count) {
      throw new IllegalArgumentException("pages " + index + "+" + count + " of " + this
          + " are not one run of frames");
    }
    return pages.frames().frames(ref, count);
  }

  /** Receives one touched page and its virtual address. */
  @FunctionalInterface
  public interface TouchedPageVisitor {
    void visit(long address, MemorySegment frame);
  }

  @Override
  public String toString() {
    return String.format("%x-%x %s %s", start, end(), Prot.toString(prot),
        name.isEmpty() ? kind.name().toLowerCase() : name);
  }
}
