package dev.accr.kernel;

import java.util.concurrent.atomic.AtomicLong;

/** A node's accounting of the page frames its processes hold. */
public final class NodeMemory {
  private final AtomicLong residentPages = new AtomicLong();
  private final AtomicLong reservedBytes = new AtomicLong();
  private final AtomicLong stagedPages = new AtomicLong();

  void addResident(long pages) {
    residentPages.addAndGet(pages);
  }

  void addReserved(long bytes) {
    reservedBytes.addAndGet(bytes);
  }

  void addStaged(long pages) {
    stagedPages.addAndGet(pages);
  }

  /**
   * Pages held for processes not here yet ({@link StagedPages}: a migration's rounds loaded
   * ahead of its stop); they count in {@link #residentPages} too.
   */
  public long stagedPages() {
    return stagedPages.get();
  }

  /** Pages currently allocated to processes of the node. */
  public long residentPages() {
    return residentPages.get();
  }

  /** Off-heap bytes held in slabs for those pages (at most twice the resident size). */
  public long reservedBytes() {
    return reservedBytes.get();
  }
}
