package dev.accr.api;

import java.lang.foreign.MemorySegment;

/**
 * A process's address space as its program sees it. Pages are 4 KiB and are allocated on first
 * write; reading a page that was never written gives zeros and allocates nothing.
 */
public interface MemoryView {
  int PAGE_SIZE = 4096;

  /**
   * Maps anonymous memory at a fixed address, like {@code mmap(MAP_FIXED|MAP_ANONYMOUS)}.
   *
   * @throws AccrException if the range is not page aligned or overlaps a mapping
   */
  void mapAnonymous(long start, long length, int prot, String name);

  /**
   * Maps a device file at a fixed address, like {@code mmap} of a render node. Its contents
   * belong to the driver; the core saves only the mapping.
   */
  void mapDevice(DeviceMapping mapping, String name);

  /**
   * Maps shared anonymous memory at a fixed address, like {@code
   * mmap(MAP_FIXED|MAP_SHARED|MAP_ANONYMOUS)} (API 6): one set of frames that children created
   * by {@link ProcessView#fork} afterwards map too, so a write by one process is seen by all.
   * The frames are freed when the last process that maps them unmaps them or ends.
   *
   * @throws AccrException if the range is not page aligned or overlaps a mapping
   */
  default void mapShared(long start, long length, int prot, String name) {
    throw Signals.unsupported("mapShared");
  }

  /**
   * Maps the whole memfd open at {@code fd} ({@link FileView#memfdCreate}) at a fixed address,
   * like {@code mmap(MAP_FIXED|MAP_SHARED, fd, 0)} (API 6): every process mapping that memfd,
   * in any address, sees the same frames.
   *
   * @throws AccrException if {@code fd} is not a memfd, or the range is taken
   */
  default void mapMemfd(long start, int fd, int prot, String name) {
    throw Signals.unsupported("mapMemfd");
  }

  /**
   * Removes the mapping that starts at {@code start} and is {@code length} long, like
   * {@code munmap} of a whole mapping; its contents are gone. Drivers use it to free host
   * memory they mapped into a process (API version 3).
   *
   * @throws AccrException if no mapping has exactly that range
   */
  void unmap(long start, long length);

  long readLong(long address);

  void writeLong(long address, long value);

  /**
   * The page that holds {@code address}, for writing: allocated if it was never touched. The
   * segment is exactly one page and stays valid while the process lives.
   */
  MemorySegment pageForWrite(long address);

  /** The page that holds {@code address}, read-only; a shared zero page if never touched. */
  MemorySegment pageForRead(long address);
}
