package dev.accr.kfd.driver;

import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A range of shared virtual memory (after Linux HMM): host memory of the process that GPUs
 * reach at the same address, with attributes, and for each page where it lives now: system
 * memory (location 0) or the VRAM of a GPU (its process-visible id). A page in VRAM occupies
 * a slot of the range's VRAM shadow on that GPU; its host page holds zeros meanwhile.
 */
public final class SvmRange {
  public static final int SYSTEM = 0;
  public static final int FLAG_COHERENT = 1;
  public static final int FLAG_READ_ONLY = 2;
  public static final int FLAG_GPU_EXEC = 4;

  private final long start;
  private final long size;
  private int preferredLocation;
  private int prefetchLocation;
  private final Set<Integer> accessGpus = new TreeSet<>();
  private int flags;
  private int granularity;
  private final int[] residency;
  /** Process-visible GPU id -> offset of this range's shadow in that GPU's VRAM. */
  private final Map<Integer, Long> shadows = new TreeMap<>();
  /** Pages written or moved since the last clear; null while the process is not tracked. */
  private volatile DirtyTracker dirty;

  SvmRange(long start, long size) {
    this.start = start;
    this.size = size;
    this.residency = new int[Math.toIntExact(size / 4096)];
  }

  public long start() {
    return start;
  }

  public long size() {
    return size;
  }

  public long end() {
    return start + size;
  }

  public int pages() {
    return residency.length;
  }

  public synchronized int preferredLocation() {
    return preferredLocation;
  }

  public synchronized int prefetchLocation() {
    return prefetchLocation;
  }

  public synchronized Set<Integer> accessGpus() {
    return new TreeSet<>(accessGpus);
  }

  public synchronized int flags() {
    return flags;
  }

  public synchronized int granularity() {
    return granularity;
  }

  synchronized void setAttributes(int preferred, int prefetch, Set<Integer> access, int flags,
      int granularity) {
    this.preferredLocation = preferred;
    this.prefetchLocation = prefetch;
    this.accessGpus.clear();
    this.accessGpus.addAll(access);
    this.flags = flags;
    this.granularity = granularity;
  }

  /** Where page {@code index} lives. */
  public synchronized int location(int index) {
    return residency[index];
  }

  synchronized void setLocation(int index, int location) {
    residency[index] = location;
  }

  /** Places {@code count} pages from {@code first} at {@code location} (a restored run). */
  synchronized void setLocations(int first, int count, int location) {
    Arrays.fill(residency, first, first + count, location);
  }

  /** A copy of the residency of every page. */
  public synchronized int[] residency() {
    return Arrays.copyOf(residency, residency.length);
  }

  DirtyTracker dirty() {
    return dirty;
  }

  void setDirty(DirtyTracker tracker) {
    dirty = tracker;
  }

  /** Records a write to page {@code index}, or its move (if tracked). */
  void written(int index) {
    DirtyTracker d = dirty;
    if (d != null) {
      d.mark(index);
    }
  }

  synchronized Long shadow(int gpu) {
    return shadows.get(gpu);
  }

  synchronized void setShadow(int gpu, long vramOffset) {
    shadows.put(gpu, vramOffset);
  }

  synchronized Map<Integer, Long> shadows() {
    return new TreeMap<>(shadows);
  }
}
