package dev.accr.kfd.driver;

import dev.accr.api.AccrException;
import dev.accr.api.CorruptImageException;
import dev.accr.kfd.proto.BoDomain;
import dev.accr.kfd.proto.KfdBoEntry;
import dev.accr.kfd.proto.KfdDeviceEntry;
import dev.accr.kfd.proto.KfdEventEntry;
import dev.accr.kfd.proto.KfdProcessEntry;
import dev.accr.kfd.proto.KfdQueueEntry;
import dev.accr.kfd.proto.KfdSvmRangeEntry;
import dev.accr.kfd.proto.SvmResidencyRun;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

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
    for (HwQueue q : p.queueList()) {
      q.pause();
    }
    List<VramExtent> vram = vramExtents(p);
    synchronized (p) {
      return KfdProcessEntry.newBuilder().setPid(p.pid()).setNumDevices(p.vm.gpus().size())
          .setNumBos(p.vm.bos().size()).setNumQueues(p.queues.size())
          .setNumEvents(p.events.snapshot().size()).setNumSvmRanges(p.vm.svmRanges().size())
          .setVramBytes(vram.stream().mapToLong(VramExtent::length).sum())
          .setNextQueueId(p.nextQueueId).setNextEventId(p.events.nextId())
          .setNextHandle(p.nextHandle).addAllCodeObjectIsas(p.vm.codeObjectIsas()).build();
    }
  }

  /** CHECKPOINT: the paused process's device state. */
  public static Checkpoint checkpoint(KfdProcess p, KfdProcessEntry info) {
    List<KfdDeviceEntry> devices = new ArrayList<>();
    for (var e : new TreeMap<>(p.vm.gpus()).entrySet()) {
      KfdDeviceEntry.Builder d = KfdDeviceEntry.newBuilder().setGpuId(e.getKey())
          .setDevice(e.getValue().device());
      for (var other : new TreeMap<>(p.vm.gpus()).entrySet()) {
        if (other.getValue() != e.getValue() && e.getValue().canReach(other.getValue())) {
          d.addPeers(other.getKey());
          if (e.getValue().sameHive(other.getValue())) {
            d.addXgmiPeers(other.getKey());
          }
        }
      }
      devices.add(d.build());
    }
    List<KfdBoEntry> bos = new ArrayList<>();
    for (Bo bo : p.vm.bos()) {
      KfdBoEntry.Builder b = KfdBoEntry.newBuilder().setHandle(bo.handle())
          .setGpuId(bo.gpuId()).setDomain(bo.domain()).setGpuVa(bo.va()).setSize(bo.size())
          .setFlags(bo.flags()).addAllMappedGpus(bo.mappedGpus())
          .setMmapOffset(bo.mmapOffset());
      DmaBuf shared = bo.dmaBuf();
      if (shared != null) {
        Gpu on = p.vm.gpu(bo.gpuId());
        b.setDmabufId(shared.id()).setImported(bo.imported())
            .setKeepsMemory(bo.imported() && shared.keptBy(bo))
            .setExporterPid(shared.exporterPid()).setExporterHandle(shared.exporterHandle())
            .setOverXgmi(bo.imported() && on != bo.gpu() && on.sameHive(bo.gpu()));
      }
      bos.add(b.build());
    }
    List<KfdQueueEntry> queues = new ArrayList<>();
    for (HwQueue q : p.queueList()) {
      if (!q.paused()) {
        throw AccrException.failed("kfd: queue %d was not paused before CHECKPOINT", q.queueId());
      }
      SavedQueue saved = SavedQueue.of(q);
      queues.add(KfdQueueEntry.newBuilder().setQueueId(q.queueId()).setGpuId(q.gpuId())
          .setType(q.type()).setPriority(q.priority()).setRingVa(q.ringVa())
          .setRingSlots(q.slots()).setReadIndex(q.readIndex()).setWriteIndex(q.writeIndex())
          .setMqd(saved.mqd()).setCtlStack(saved.ctlStack())
          .setPreemptedPacket(Math.max(0, q.preemptedPacket() + 1))
          .setPreemptedNextWorkgroup(q.preemptedNextUnit()).build());
    }
    List<KfdEventEntry> events = new ArrayList<>();
    for (var e : p.events.snapshot().entrySet()) {
      events.add(KfdEventEntry.newBuilder().setEventId(e.getKey())
          .setType(SignalEvents.TYPE_SIGNAL).setSignalCount(e.getValue()).build());
    }
    List<KfdSvmRangeEntry> ranges = new ArrayList<>();
    for (SvmRange r : p.vm.svmRanges()) {
      KfdSvmRangeEntry.Builder b = KfdSvmRangeEntry.newBuilder().setStart(r.start())
          .setSize(r.size()).setPreferredLocation(r.preferredLocation())
          .setPrefetchLocation(r.prefetchLocation()).addAllAccessGpus(r.accessGpus())
          .setFlags(r.flags()).setGranularity(r.granularity());
      int[] where = r.residency();
      for (int i = 0; i < where.length; ) {
        int j = i;
        while (j < where.length && where[j] == where[i]) {
          j++;
        }
        b.addResidency(SvmResidencyRun.newBuilder().setFirstPage(i).setPages(j - i)
            .setLocation(where[i]));
        i = j;
      }
      ranges.add(b.build());
    }
    return new Checkpoint(info, devices, bos, queues, events, ranges);
  }

  /**
   * Whether a dump of {@code bo}'s process saves its contents: its own buffers, and an import
   * of a dma-buf whose exporter freed its buffer, if it is the oldest holder left.
   */
  static boolean keepsContents(Bo bo) {
    DmaBuf shared = bo.dmaBuf();
    return !bo.imported() || (shared != null && shared.keptBy(bo));
  }

  /** The VRAM a dump saves: VRAM buffers, then SVM pages resident in VRAM (coalesced). */
  public static List<VramExtent> vramExtents(KfdProcess p) {
    List<VramExtent> out = new ArrayList<>();
    for (Bo bo : p.vm.bos()) {
      if (bo.domain() == BoDomain.VRAM && keepsContents(bo)) { // imports: by the exporter
        out.add(new VramExtent(bo.gpuId(), bo.gpu(), bo.va(), bo.vramOffset(), bo.size(),
            bo.cpuReachable()));
      }
    }
    for (SvmRange r : p.vm.svmRanges()) {
      int[] where = r.residency();
      for (int i = 0; i < where.length; ) {
        int j = i;
        while (j < where.length && where[j] == where[i]) {
          j++;
        }
        if (where[i] != SvmRange.SYSTEM) {
          Gpu g = p.vm.gpu(where[i]);
          long offset = p.vm.shadowOf(r, where[i]) + (long) i * GpuVm.PAGE;
          long length = (long) (j - i) * GpuVm.PAGE;
          out.add(new VramExtent(where[i], g, r.start() + (long) i * GpuVm.PAGE, offset, length,
              offset + length <= g.vram().visibleBytes()));
        }
        i = j;
      }
    }
    return out;
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
    List<VramExtent> out = new ArrayList<>();
    for (DirtyPages.BoPages b : pages.bos()) {
      Bo bo = p.vm.boAt(b.va());
      if (b.domain() != BoDomain.VRAM || bo == null || bo.handle() != b.handle()
          || !keepsContents(bo)) {
        continue;
      }
      for (PageBitmap.Run run : b.dirty().runs(maxGapPages)) {
        long offset = bo.vramOffset() + run.offset();
        out.add(new VramExtent(bo.gpuId(), bo.gpu(), bo.va() + run.offset(), offset,
            run.bytes(), offset + run.bytes() <= bo.gpu().vram().visibleBytes()));
      }
    }
    for (DirtyPages.SvmPages s : pages.svmRanges()) {
      SvmRange r = p.vm.svmAt(s.start());
      if (r == null || r.start() != s.start()) {
        continue;
      }
      int[] where = r.residency();
      for (int i = 0; i < where.length; ) {
        int j = i;
        while (j < where.length && where[j] == where[i] && s.dirty().contains(j)) {
          j++;
        }
        if (j == i) {
          i++;
          continue;
        }
        if (where[i] != SvmRange.SYSTEM) {
          Gpu g = p.vm.gpu(where[i]);
          long offset = p.vm.shadowOf(r, where[i]) + (long) i * GpuVm.PAGE;
          long length = (long) (j - i) * GpuVm.PAGE;
          out.add(new VramExtent(where[i], g, r.start() + (long) i * GpuVm.PAGE, offset, length,
              offset + length <= g.vram().visibleBytes()));
        }
        i = j;
      }
    }
    return out;
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
    synchronized (p) {
      p.vm.loadCodeObjects(info.getCodeObjectIsasList());
      for (KfdBoEntry e : bos) {
        if (e.getImported()) {
          continue; // imported once its exporter's buffer exists (restoreImport)
        }
        Gpu g = p.vm.gpu(e.getGpuId());
        long vramOffset = -1;
        long mmapOffset = 0;
        switch (e.getDomain()) {
          case VRAM -> vramOffset = g.allocator().allocate(e.getSize(),
              (e.getFlags() & Bo.FLAG_CPU_VISIBLE) != 0, g.toString());
          case DOORBELL, MMIO -> mmapOffset = KfdProcess.mmapOffset(e.getDomain(), g);
          case GTT, USERPTR -> { }
          default -> throw AccrException.failed("kfd: buffer %d has domain %s", e.getHandle(),
              e.getDomain());
        }
        Bo bo = new Bo(e.getHandle(), e.getGpuId(), g, e.getDomain(), e.getGpuVa(), e.getSize(),
            e.getFlags(), vramOffset, mmapOffset);
        for (int m : e.getMappedGpusList()) {
          p.vm.gpu(m);
          bo.mapOn(m);
        }
        try {
          p.vm.add(bo);
        } catch (RuntimeException ex) {
          if (vramOffset >= 0) {
            g.allocator().free(vramOffset);
          }
          throw ex;
        }
      }
      for (KfdSvmRangeEntry e : ranges) {
        SvmRange r = new SvmRange(e.getStart(), e.getSize());
        r.setAttributes(e.getPreferredLocation(), e.getPrefetchLocation(),
            new HashSet<>(e.getAccessGpusList()), e.getFlags(), e.getGranularity());
        for (SvmResidencyRun run : e.getResidencyList()) {
          if (run.getLocation() != SvmRange.SYSTEM) {
            p.vm.gpu(run.getLocation());
          }
          r.setLocations(run.getFirstPage(), run.getPages(), run.getLocation());
        }
        p.vm.add(r);
        for (SvmResidencyRun run : e.getResidencyList()) {
          if (run.getLocation() != SvmRange.SYSTEM) {
            p.vm.shadowOf(r, run.getLocation());
          }
        }
      }
      for (KfdEventEntry e : events) {
        p.events.restore(e.getEventId(), e.getSignalCount());
      }
      p.events.setNextId(info.getNextEventId());
      for (KfdQueueEntry e : queues) {
        HwQueue q = new HwQueue(e.getQueueId(), e.getGpuId(), e.getType(), e.getPriority(),
            e.getRingVa(), e.getRingSlots(), p.vm, p.process().memory(), p.events, true);
        q.restoreState(e.getReadIndex(), e.getWriteIndex(), e.getPreemptedPacket() - 1,
            e.getPreemptedNextWorkgroup());
        p.queues.put(e.getQueueId(), q);
        q.start();
      }
      p.nextHandle = Math.max(p.nextHandle, info.getNextHandle());
      p.nextQueueId = Math.max(p.nextQueueId, info.getNextQueueId());
    }
  }

  /**
   * Re-exports a restored buffer as the dma-buf {@code buffer} (created empty by whoever met
   * it first in the restore): the buffer gets this buffer's memory.
   */
  public static void restoreExport(KfdProcess p, KfdBoEntry e, DmaBuf buffer) {
    Bo bo = p.bo(e.getHandle());
    if (bo.domain() != BoDomain.VRAM || bo.va() != e.getGpuVa()) {
      throw new CorruptImageException("kfd-bos-" + p.pid() + ".img", String.format(
          "buffer %d is not the VRAM buffer exported at 0x%x", e.getHandle(), e.getGpuVa()));
    }
    buffer.bind(bo, p.pid());
  }

  /**
   * Re-creates a dma-buf whose exporter had freed its buffer, from the import that kept its
   * contents: new memory on the import's GPU, held by the import (its first holder again).
   */
  public static void restoreKept(KfdProcess p, KfdBoEntry e, DmaBuf buffer) {
    Gpu g = p.vm.gpu(e.getGpuId());
    long vramOffset = g.allocator().allocate(e.getSize(), true, g.toString());
    try {
      buffer.bindFreed(g, vramOffset, e.getSize(), e.getExporterPid(), e.getExporterHandle());
      restoreImport(p, e, buffer);
    } catch (RuntimeException ex) {
      if (buffer.unused()) {
        g.allocator().free(vramOffset);
      }
      throw ex;
    }
  }

  /**
   * Recreates an imported buffer of {@code p} from its restored dma-buf, at the same GPU
   * address and handle, mapped on the same GPUs.
   */
  public static void restoreImport(KfdProcess p, KfdBoEntry e, DmaBuf buffer) {
    if (buffer.size() != e.getSize()) {
      throw AccrException.failed("kfd: imported buffer %d of process %d: size=%d but its"
          + " dma-buf %d has %d", e.getHandle(), p.pid(), e.getSize(), e.getDmabufId(),
          buffer.size());
    }
    p.importDmaBuf(buffer, e.getGpuId(), e.getGpuVa(), e.getHandle());
    Bo bo = p.bo(e.getHandle());
    for (int m : e.getMappedGpusList()) {
      p.vm.gpu(m);
      bo.mapOn(m);
    }
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
