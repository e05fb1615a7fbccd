package dev.accr.api;

/**
 * Device memory that a plugin restores lazily (API 6): the process runs before its device
 * memory is in, and each unit (a VRAM block, a page of device memory) is loaded from the images
 * on its first touch by the device or the CPU, as HMM's {@code migrate_vma} brings a page to
 * the device that faults on it. Meanwhile the host calls {@link #pushNext} from a background
 * thread until everything is in. A fault on a unit that {@link #pushNext} is loading waits for
 * it; a unit is never loaded twice, and a write always lands on the loaded contents.
 */
public interface LazyDeviceMemory {
  /** What it holds, for messages and reports (e.g. "kfd VRAM"). */
  String name();

  /**
   * Loads one unit that is not in yet, in the background; returns false when every unit is in.
   * A damaged unit throws {@link CorruptImageException}: the host kills the process.
   */
  boolean pushNext();

  /** Units loaded so far by a fault (a first touch). */
  long unitsFaulted();

  /** Units loaded so far by {@link #pushNext}. */
  long unitsPushed();

  /** Units to load in all. */
  long units();

  /** Bytes of one unit (the last one of a buffer may hold less). */
  long unitBytes();

  /**
   * Ends lazy loading: faults go back to the device's usual path and the images are no longer
   * read. Called once every unit is in, or when the process is gone.
   */
  void finish();
}
