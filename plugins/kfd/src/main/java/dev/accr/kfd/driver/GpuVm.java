package dev.accr.kfd.driver;

import dev.accr.api.AccrException;
import dev.accr.api.MemoryView;
import dev.accr.kfd.proto.BoDomain;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArraySet;

/**
 * The GPU virtual address space of one process: its buffer objects and SVM ranges, and how a
 * GPU reaches an address. SVM pages migrate on GPU faults towards their preferred location
 * (as with migrate_vma), or are reached where they are when the GPU has a link to them.
 */
final class GpuVm {
  static final int PAGE = MemoryView.PAGE_SIZE;

  private final MemoryView host;
  private final Map<Integer, Gpu> gpus; // process-visible id -> GPU of this node
  private final TreeMap<Long, Bo> bos = new TreeMap<>();
  private final TreeMap<Long, SvmRange> svm = new TreeMap<>();
  private final Set<Integer> codeObjectIsas = new CopyOnWriteArraySet<>();
  /** Whether written pages are tracked (each buffer and range then has a tracker). */
  private boolean tracking;
  /** Handles of buffers freed since tracking was last cleared. */
  private final Set<Integer> freedSinceClear = new TreeSet<>();

  GpuVm(MemoryView host, Map<Integer, Gpu> gpus) {
    this.host = host;
    this.gpus = new LinkedHashMap<>(gpus);
  }

  Gpu gpu(int id) {
    Gpu g = gpus.get(id);
    if (g == null) {
      throw AccrException.failed("kfd: no gpu 0x%x in this process (has %s)", id,
          gpus.keySet().stream().map(i -> String.format("0x%x", i)).toList());
    }
    return g;
  }

  Map<Integer, Gpu> gpus() {
    return Collections.unmodifiableMap(gpus);
  }

  /** Hides every GPU but {@code ids}; only before anything was allocated or mapped. */
  synchronized void restrictTo(Collection<Integer> ids) {
    for (int id : ids) {
      gpu(id);
    }
    if (!bos.isEmpty() || !svm.isEmpty()) {
      throw AccrException.failed("kfd: devices can only be restricted before first use");
    }
    gpus.keySet().retainAll(ids);
  }

  void loadCodeObjects(Collection<Integer> isas) {
    codeObjectIsas.addAll(isas);
  }

  /** The ISAs the program has code for, ascending. */
  SortedSet<Integer> codeObjectIsas() {
    return new TreeSet<>(codeObjectIsas);
  }

  /** Whether kernels can run on GPU {@code id}: the program loaded code for its ISA. */
  boolean hasCodeFor(int id) {
    return codeObjectIsas.contains(gpu(id).device().getGfxTargetVersion());
  }

  synchronized void add(Bo bo) {
    checkFree(bo.va(), bo.size());
    if (tracking) {
      bo.setDirty(new DirtyTracker(pages(bo.size()), true));
    }
    bos.put(bo.va(), bo);
  }

  synchronized void add(SvmRange range) {
    checkFree(range.start(), range.size());
    if (tracking) {
      range.setDirty(new DirtyTracker(range.pages(), true));
    }
    svm.put(range.start(), range);
  }

  synchronized Bo removeBo(long va) {
    Bo bo = bos.remove(va);
    if (bo != null && tracking) {
      freedSinceClear.add(bo.handle());
      bo.setDirty(null);
    }
    return bo;
  }

  private static int pages(long bytes) {
    return Math.toIntExact(bytes / PAGE);
  }

  /**
   * Starts tracking written pages, or clears what was tracked: every buffer and range from
   * now on starts clean and counts as existing before the clear.
   */
  synchronized void startTracking() {
    tracking = true;
    freedSinceClear.clear();
    for (Bo bo : bos.values()) {
      if (bo.dirty() == null) {
        bo.setDirty(new DirtyTracker(pages(bo.size()), false));
      } else {
        bo.dirty().snapshot(true);
      }
    }
    for (SvmRange r : svm.values()) {
      if (r.dirty() == null) {
        r.setDirty(new DirtyTracker(r.pages(), false));
      } else {
        r.dirty().snapshot(true);
      }
    }
  }

  /** Stops tracking and drops every bitmap. */
  synchronized void stopTracking() {
    tracking = false;
    freedSinceClear.clear();
    bos.values().forEach(bo -> bo.setDirty(null));
    svm.values().forEach(r -> r.setDirty(null));
  }

  synchronized boolean tracking() {
    return tracking;
  }

  /** The pages written since the last clear; with {@code clear}, clears in the same step. */
  synchronized DirtyPages dirtyPages(int pid, boolean clear) {
    if (!tracking) {
      throw AccrException.failed("kfd: process %d does not track written pages", pid);
    }
    List<DirtyPages.BoPages> boPages = new ArrayList<>();
    for (Bo bo : bos.values()) {
      boolean created = bo.dirty().created();
      boPages.add(new DirtyPages.BoPages(bo.handle(), bo.gpuId(), bo.domain(), bo.va(),
          bo.size(), created, bo.dirty().snapshot(clear)));
    }
    List<DirtyPages.SvmPages> svmPages = new ArrayList<>();
    for (SvmRange r : svm.values()) {
      boolean created = r.dirty().created();
      svmPages.add(new DirtyPages.SvmPages(r.start(), r.size(), created,
          r.dirty().snapshot(clear)));
    }
    DirtyPages out = new DirtyPages(boPages, svmPages, List.copyOf(freedSinceClear));
    if (clear) {
      freedSinceClear.clear();
    }
    return out;
  }

  /** Marks again what {@code pages} reported (its dump failed); no-op when not tracking. */
  synchronized void redirty(DirtyPages pages) {
    if (!tracking) {
      return;
    }
    for (DirtyPages.BoPages b : pages.bos()) {
      Bo bo = bos.get(b.va());
      if (bo != null && bo.handle() == b.handle()) {
        bo.dirty().restore(b.dirty(), b.created());
      }
    }
    for (DirtyPages.SvmPages s : pages.svmRanges()) {
      SvmRange r = svm.get(s.start());
      if (r != null && r.size() == s.size()) {
        r.dirty().restore(s.dirty(), s.created());
      }
    }
    freedSinceClear.addAll(pages.freedHandles());
  }

  /** Heap bytes that tracking holds: 0 when off. */
  synchronized long trackingBytes() {
    long n = 0;
    for (Bo bo : bos.values()) {
      n += bo.dirty() == null ? 0 : bo.dirty().bytes();
    }
    for (SvmRange r : svm.values()) {
      n += r.dirty() == null ? 0 : r.dirty().bytes();
    }
    return n;
  }

  synchronized List<Bo> bos() {
    return new ArrayList<>(bos.values());
  }

  synchronized List<SvmRange> svmRanges() {
    return new ArrayList<>(svm.values());
  }

  synchronized Bo boAt(long va) {
    var e = bos.floorEntry(va);
    return e != null && va < e.getValue().end() ? e.getValue() : null;
  }

  synchronized SvmRange svmAt(long va) {
    var e = svm.floorEntry(va);
    return e != null && va < e.getValue().end() ? e.getValue() : null;
  }

  private void checkFree(long va, long size) {
    if (va % PAGE != 0 || size <= 0 || size % PAGE != 0) {
      throw AccrException.failed("kfd: range 0x%x+0x%x is not page aligned", va, size);
    }
    var b = bos.floorEntry(va + size - 1);
    var s = svm.floorEntry(va + size - 1);
    if ((b != null && b.getValue().end() > va) || (s != null && s.getValue().end() > va)) {
      throw AccrException.failed("kfd: range 0x%x+0x%x overlaps a buffer or SVM range", va, size);
    }
  }

  /**
   * The bytes at {@code va} as GPU {@code gpuId} reaches them, at most to the end of the page;
   * read-only unless {@code write}. A write access marks the page written when the process is
   * tracked (the dirty bit of the GPU's page table entry), so every store must come through a
   * write access; a read access never marks, but an SVM page it moves is marked where it lands.
   *
   * @throws GpuFault if the address is not mapped for that GPU or needs a link it lacks
   */
  MemorySegment access(int gpuId, long va, int length, boolean write) {
    if (length <= 0 || va % PAGE + length > PAGE) {
      throw new GpuFault(String.format("access of %d bytes at 0x%x crosses a page", length, va));
    }
    Gpu self = gpu(gpuId);
    Bo bo = boAt(va);
    if (bo != null) {
      MemorySegment bytes = switch (bo.domain()) {
        case VRAM -> {
          if (!bo.isMappedOn(gpuId)) {
            throw new GpuFault(String.format("gpu 0x%x: %s is not mapped on it", gpuId, bo));
          }
          if (!self.canReach(bo.gpu())) {
            throw new GpuFault(String.format("gpu 0x%x has no link to gpu 0x%x for %s", gpuId,
                bo.gpuId(), bo));
          }
          long offset = bo.vramOffset() + (va - bo.va());
          yield write ? bo.gpu().vram().forWrite(offset, length)
              : bo.gpu().vram().forRead(offset, length);
        }
        case GTT, USERPTR -> (write ? host.pageForWrite(va) : host.pageForRead(va))
            .asSlice(va % PAGE, length);
        default -> throw new GpuFault(String.format("gpu 0x%x: %s is not memory", gpuId, bo));
      };
      if (write) {
        bo.written(va, length);
        return bytes;
      }
      return bytes.asReadOnly();
    }
    SvmRange range = svmAt(va);
    if (range == null) {
      throw new GpuFault(String.format("gpu 0x%x: page fault at 0x%x (no buffer or SVM range)",
          gpuId, va));
    }
    if (!range.accessGpus().contains(gpuId)) {
      throw new GpuFault(String.format("gpu 0x%x: no access to SVM range at 0x%x", gpuId,
          range.start()));
    }
    int page = (int) ((va - range.start()) / PAGE);
    synchronized (range) {
      int at = range.location(page);
      if (at != gpuId && range.preferredLocation() == gpuId) {
        migrate(range, page, gpuId); // a GPU fault on a page that prefers this GPU
        at = gpuId;
      } else if (at != SvmRange.SYSTEM && at != gpuId && !self.canReach(gpu(at))) {
        migrate(range, page, SvmRange.SYSTEM);
        at = SvmRange.SYSTEM;
      }
      if (write) {
        range.written(page);
        return pageOf(range, page, at).asSlice(va % PAGE, length);
      }
      MemorySegment bytes = at == SvmRange.SYSTEM ? host.pageForRead(va)
          : pageOf(range, page, at);
      return bytes.asSlice(va % PAGE, length).asReadOnly();
    }
  }

  /** Moves every page of {@code range} to {@code location} (a prefetch). */
  void prefetch(SvmRange range, int location) {
    if (location != SvmRange.SYSTEM) {
      gpu(location);
    }
    synchronized (range) {
      for (int p = 0; p < range.pages(); p++) {
        if (range.location(p) != location) {
          migrate(range, p, location);
        }
      }
    }
  }

  /** The memory of page {@code page} of {@code range} at {@code location}. */
  MemorySegment pageOf(SvmRange range, int page, int location) {
    long va = range.start() + (long) page * PAGE;
    if (location == SvmRange.SYSTEM) {
      return host.pageForWrite(va);
    }
    long shadow = shadowOf(range, location);
    return gpu(location).vram().forWrite(shadow + (long) page * PAGE, PAGE);
  }

  /** The offset of the range's VRAM shadow on a GPU, allocated on first use. */
  long shadowOf(SvmRange range, int gpuId) {
    Long shadow = range.shadow(gpuId);
    if (shadow == null) {
      Gpu g = gpu(gpuId);
      shadow = g.allocator().allocate(range.size(), false, g.toString());
      range.setShadow(gpuId, shadow);
    }
    return shadow;
  }

  private void migrate(SvmRange range, int page, int to) {
    int from = range.location(page);
    MemorySegment source = pageOf(range, page, from);
    MemorySegment target = pageOf(range, page, to);
    MemorySegment.copy(source, 0, target, 0, PAGE);
    source.fill((byte) 0); // the old copy is gone, as after migrate_vma
    range.setLocation(page, to);
    range.written(page); // changed where it now lives
  }

  /** Frees the VRAM of every buffer and SVM shadow. */
  synchronized void releaseAll() {
    for (Bo bo : bos.values()) {
      bo.releaseVram();
    }
    bos.clear();
    for (SvmRange r : svm.values()) {
      for (var e : r.shadows().entrySet()) {
        Gpu g = gpus.get(e.getKey());
        g.vram().release(e.getValue(), VramAllocator.roundUp(r.size())); // then the range
        g.allocator().free(e.getValue());
      }
    }
    svm.clear();
    tracking = false;
    freedSinceClear.clear();
  }
}
