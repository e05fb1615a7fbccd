package dev.accr.kfd.driver;

import dev.accr.api.AccrException;
import dev.accr.api.CorruptImageException;
import dev.accr.kfd.proto.BoDomain;
import dev.accr.kfd.proto.KfdBoEntry;
import dev.accr.kfd.proto.KfdEventEntry;
import dev.accr.kfd.proto.KfdProcessEntry;
import dev.accr.kfd.proto.KfdQueueEntry;
import dev.accr.kfd.proto.KfdSvmRangeEntry;
import dev.accr.kfd.proto.SvmResidencyRun;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

/** RESTORE: a process's buffers, SVM ranges, events and queues recreated from entries. */
final class CriuRestore {
  private CriuRestore() {}

  /** See {@link KfdCriu#restore}. */
  static void restore(KfdProcess p, KfdProcessEntry info, List<KfdBoEntry> bos,
      List<KfdQueueEntry> queues, List<KfdEventEntry> events, List<KfdSvmRangeEntry> ranges) {
    List<HwQueue> restored = new ArrayList<>();
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
          case DOORBELL, MMIO -> mmapOffset = BufferAllocation.mmapOffset(e.getDomain(), g);
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
        restored.add(q);
      }
      p.nextHandle = Math.max(p.nextHandle, info.getNextHandle());
      p.nextQueueId = Math.max(p.nextQueueId, info.getNextQueueId());
    }
    startOffThisThread(restored);
  }

  /**
   * Starts the device threads of restored queues from another thread: a queue stays paused
   * until RESUME, whether its thread has started or not, and starting platform threads one by
   * one (slow on a loaded machine) would lengthen the restore, during which the process is
   * stopped. A queue closed before its thread starts has that thread end at once.
   */
  private static void startOffThisThread(List<HwQueue> queues) {
    if (!queues.isEmpty()) {
      Thread.ofVirtual().name("kfd-queue-start").start(() -> queues.forEach(HwQueue::start));
    }
  }

  /** See {@link KfdCriu#restoreExport}. */
  static void restoreExport(KfdProcess p, KfdBoEntry e, DmaBuf buffer) {
    Bo bo = p.bo(e.getHandle());
    if (bo.domain() != BoDomain.VRAM || bo.va() != e.getGpuVa()) {
      throw new CorruptImageException("kfd-bos-" + p.pid() + ".img", String.format(
          "buffer %d is not the VRAM buffer exported at 0x%x", e.getHandle(), e.getGpuVa()));
    }
    buffer.bind(bo, p.pid());
  }

  /** See {@link KfdCriu#restoreKept}. */
  static void restoreKept(KfdProcess p, KfdBoEntry e, DmaBuf buffer) {
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

  /** See {@link KfdCriu#restoreImport}. */
  static void restoreImport(KfdProcess p, KfdBoEntry e, DmaBuf buffer) {
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
}
