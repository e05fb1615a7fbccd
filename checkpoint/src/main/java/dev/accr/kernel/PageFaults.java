package dev.accr.kernel;

/**
 * Loads pages that a lazy restore left "not present, in the images": the pages of a mapping
 * without a frame whose contents are still with a page source (image files, another node). An
 * {@link AddressSpace} asks it only on the slow path, when a touched page has no frame, so an
 * address space without one (every eagerly restored or started process) pays nothing.
 */
public interface PageFaults {
  /**
   * Called on the first touch of page {@code index} of {@code vma}, which has no frame.
   * Returns false when the page is not one the source holds (it is a zero page, allocated as
   * usual); otherwise returns once the page has its frame with the restored contents, loading
   * it or waiting for whoever loads it. Throws when the page cannot be loaded: the touching
   * step fails and the process with it.
   */
  boolean fault(Vma vma, long index);
}
