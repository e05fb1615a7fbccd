package dev.accr.kfd.driver;

import dev.accr.kfd.proto.KfdBoEntry;
import dev.accr.kfd.proto.KfdDeviceEntry;
import dev.accr.kfd.proto.KfdEventEntry;
import dev.accr.kfd.proto.KfdProcessEntry;
import dev.accr.kfd.proto.KfdQueueEntry;
import dev.accr.kfd.proto.KfdSvmRangeEntry;
import java.util.List;
import java.util.Map;

/**
 * The driver's CRIU operations on a process, after AMDKFD_IOC_CRIU_OP: PROCESS_INFO (pause the
 * queues, return counts), CHECKPOINT (return the state as entries), UNPAUSE, RESTORE (recreate
 * the state at the same GPU addresses, queues paused), RESUME.
 */
public final class KfdCriu {
  private KfdCriu() {}

  /** The state CHECKPOINT returns. */
  public record Checkpoint(KfdProcessEntry process, List<KfdDeviceEntry> devices,
      List<KfdBoEntry> bos, List<KfdQueueEntry> queues, List<KfdEventEntry> events,
      List<KfdSvmRangeEntry> svmRanges) {}

  /**
   * A piece of VRAM to save or restore: on GPU {@code gpuId} (process-visible), at GPU address
   * {@code va}, {@code length} bytes at {@code vramOffset} of {@code gpu}'s VRAM.
   */
  public record VramExtent(int gpuId, Gpu gpu, long va, long vramOffset, long length,
      boolean cpuReachable) {}

  /** PROCESS_INFO: preempts every queue and returns counts and sizes. */
  public static KfdProcessEntry processInfo(KfdProcess p) {
    return CriuCheckpoint.processInfo(p);
  }

  /** CHECKPOINT: the paused process's device state. */
  public static Checkpoint checkpoint(KfdProcess p, KfdProcessEntry info) {
    return CriuCheckpoint.checkpoint(p, info);
  }

  /** The VRAM a dump saves: VRAM buffers, then SVM pages resident in VRAM (coalesced). */
  public static List<VramExtent> vramExtents(KfdProcess p) {
    return VramExtents.all(p);
  }

  // Dirty tracking, for incremental dumps. A chain of dumps uses it like this (all calls with
  // the process frozen and its queues paused by PROCESS_INFO):
  //   first link (full):   startDirtyTracking, then save all of vramExtents
  //   each later link:     d = dirtyPages(p, true); save dirtyVramExtents(p, d), record
  //                        d.freedHandles() and new buffers (created); on failure redirty(p, d)
  //   end of the chain:    stopDirtyTracking
  // A buffer is identified by its handle (never reused by a process) and its GPU address.

  /**
   * TRACK_START: starts tracking the 4 KiB pages written in each buffer and SVM range of
   * {@code p}, or, if already tracking, clears what was tracked. From now on every buffer and
   * range starts clean; those allocated later are reported as {@code created} (wholly dirty).
   * Bitmaps (one bit per page) exist only while tracking: a process never tracked costs
   * nothing. Call with the process frozen and its queues paused, so that no write straddles
   * the clear.
   */
  public static void startDirtyTracking(KfdProcess p) {
    p.vm.startTracking();
  }

  /** TRACK_STOP: stops tracking and frees every bitmap (no-op when not tracking). */
  public static void stopDirtyTracking(KfdProcess p) {
    p.vm.stopTracking();
  }

  /** Whether {@code p} tracks written pages. A restored process does not until started. */
  public static boolean isDirtyTracking(KfdProcess p) {
    return p.vm.tracking();
  }

  /**
   * TRACK_GET: the pages written since the last clear in every buffer and SVM range, the
   * buffers created and the handles freed since then (see {@link DirtyPages}). With {@code
   * clear}, tracking is cleared in the same step (no write between is lost), so the next call
   * reports what is written after this one; a dump that then fails gives the pages back with
   * {@link #redirty}. Call with the queues paused for a report consistent with the VRAM read
   * next.
   *
   * @throws AccrException (failed) if the process is not tracking
   */
  public static DirtyPages dirtyPages(KfdProcess p, boolean clear) {
    return p.vm.dirtyPages(p.pid(), clear);
  }

  /**
   * Marks again everything {@code pages} (from {@link #dirtyPages} with clear) reported, for
   * buffers and ranges that still exist: after a failed dump, the next one saves those pages.
   */
  public static void redirty(KfdProcess p, DirtyPages pages) {
    p.vm.redirty(pages);
  }

  /**
   * The VRAM a dump after {@code pages} must save: the dirty pages of VRAM buffers and the
   * dirty pages of SVM ranges that live in VRAM now (where they live now), as coalesced
   * extents in the order of {@link #vramExtents}. A created buffer is wholly in it. Every
   * other page of {@link #vramExtents} is unchanged since the clear (found in the parent, at
   * the same GPU address, same GPU). SVM pages that are dirty but live in system memory are
   * host memory (the core's).
   */
  public static List<VramExtent> dirtyVramExtents(KfdProcess p, DirtyPages pages) {
    return dirtyVramExtents(p, pages, 0);
  }

  /**
   * {@link #dirtyVramExtents(KfdProcess, DirtyPages)}, with the runs of a VRAM buffer merged
   * across gaps of at most {@code maxGapPages} clean pages: fewer, larger extents to copy (the
   * gaps' pages are saved too, unchanged, which is harmless).
   */
  public static List<VramExtent> dirtyVramExtents(KfdProcess p, DirtyPages pages,
      int maxGapPages) {
    return VramExtents.dirty(p, pages, maxGapPages);
  }

  /** Heap bytes the tracking bitmaps of {@code p} hold: 0 when not tracking. */
  public static long dirtyTrackingBytes(KfdProcess p) {
    return p.vm.trackingBytes();
  }

  /** UNPAUSE after a dump that leaves the process running (or failed); RESUME after restore. */
  public static void resume(KfdProcess p) {
    for (HwQueue q : p.queueList()) {
      q.resume();
    }
  }

  /**
   * RESTORE: recreates buffers (same GPU addresses, VRAM allocated on the mapped GPUs), SVM
   * ranges with their residency, events and paused queues. Contents of VRAM are loaded
   * afterwards through {@link #vramExtents}. The host memory (GTT, rings, SVM pages in system
   * memory) and device mappings are already restored by the core.
   */
  public static void restore(KfdProcess p, KfdProcessEntry info, List<KfdBoEntry> bos,
      List<KfdQueueEntry> queues, List<KfdEventEntry> events, List<KfdSvmRangeEntry> ranges) {
    CriuRestore.restore(p, info, bos, queues, events, ranges);
  }

  /**
   * Re-exports a restored buffer as the dma-buf {@code buffer} (created empty by whoever met
   * it first in the restore): the buffer gets this buffer's memory.
   */
  public static void restoreExport(KfdProcess p, KfdBoEntry e, DmaBuf buffer) {
    CriuRestore.restoreExport(p, e, buffer);
  }

  /**
   * Re-creates a dma-buf whose exporter had freed its buffer, from the import that kept its
   * contents: new memory on the import's GPU, held by the import (its first holder again).
   */
  public static void restoreKept(KfdProcess p, KfdBoEntry e, DmaBuf buffer) {
    CriuRestore.restoreKept(p, e, buffer);
  }

  /**
   * Recreates an imported buffer of {@code p} from its restored dma-buf, at the same GPU
   * address and handle, mapped on the same GPUs.
   */
  public static void restoreImport(KfdProcess p, KfdBoEntry e, DmaBuf buffer) {
    CriuRestore.restoreImport(p, e, buffer);
  }

  /**
   * After RESTORE, with host memory in place: what is wrong with a queue's preempted progress
   * against the packet in its ring, or null.
   */
  public static String preemptedProgressProblem(KfdProcess p) {
    for (HwQueue q : p.queueList()) {
      String problem = q.preemptedProgressProblem();
      if (problem != null) {
        return problem;
      }
    }
    return null;
  }

  /** VRAM bytes the process's buffers and SVM shadows hold (for checks). */
  public static long vramInUse(KfdProcess p) {
    return vramExtents(p).stream().mapToLong(VramExtent::length).sum();
  }

  static Map<Integer, Gpu> gpus(KfdProcess p) {
    return p.vm.gpus();
  }
}
