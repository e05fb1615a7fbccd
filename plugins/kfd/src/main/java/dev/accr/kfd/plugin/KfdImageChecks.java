package dev.accr.kfd.plugin;

import dev.accr.api.CorruptImageException;
import dev.accr.kfd.driver.SavedQueue;
import dev.accr.kfd.proto.BoDomain;
import dev.accr.kfd.proto.KfdBoEntry;
import dev.accr.kfd.proto.KfdDeviceEntry;
import dev.accr.kfd.proto.KfdEventEntry;
import dev.accr.kfd.proto.KfdProcessEntry;
import dev.accr.kfd.proto.KfdQueueEntry;
import dev.accr.kfd.proto.KfdSvmRangeEntry;
import dev.accr.kfd.proto.QueueType;
import dev.accr.kfd.proto.SvmResidencyRun;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

/**
 * Checks the values inside KFD entries before anything is allocated for them: images are
 * untrusted, and a hostile size or index must give exit code 3, not a huge allocation or a
 * queue running off its ring.
 */
final class KfdImageChecks {
  static final long MAX_SVM_BYTES = 16L << 30;
  /** GPU virtual addresses (and so SVM ranges, which share them) lie below 2^47. */
  static final long VA_LIMIT = 1L << 47;
  static final int MAX_RING_SLOTS = 1 << 16;
  /**
   * More signals than a device can send in centuries (one a microsecond for a year is 2^45):
   * programs check tighter bounds of their own ({@code Workload.checkRestored}).
   */
  static final long MAX_SIGNAL_COUNT = 1L << 48;
  private static final long PAGE = 4096;

  private KfdImageChecks() {}

  static void check(int pid, KfdProcessEntry info, List<KfdDeviceEntry> devices,
      List<KfdBoEntry> bos, List<KfdQueueEntry> queues, List<KfdEventEntry> events,
      List<KfdSvmRangeEntry> ranges) {
    String f = "kfd-process-" + pid + ".img";
    if (info.getPid() != pid || info.getNumDevices() != devices.size()
        || info.getNumBos() != bos.size() || info.getNumQueues() != queues.size()
        || info.getNumEvents() != events.size() || info.getNumSvmRanges() != ranges.size()) {
      throw new CorruptImageException(f, "pid or counts do not match the other kfd images");
    }
    Set<Integer> gpus = new HashSet<>();
    for (KfdDeviceEntry d : devices) {
      if (!gpus.add(d.getGpuId())) {
        throw new CorruptImageException("kfd-devices-" + pid + ".img",
            String.format("gpu 0x%x is listed twice", d.getGpuId()));
      }
    }
    String bf = "kfd-bos-" + pid + ".img";
    Set<Integer> handles = new HashSet<>();
    for (KfdBoEntry b : bos) {
      boolean memory = b.getDomain() == BoDomain.VRAM || b.getDomain() == BoDomain.GTT
          || b.getDomain() == BoDomain.USERPTR;
      boolean page = b.getDomain() == BoDomain.DOORBELL || b.getDomain() == BoDomain.MMIO;
      if (!handles.add(b.getHandle()) || !gpus.contains(b.getGpuId()) || !(memory || page)
          || b.getGpuVa() % PAGE != 0 || b.getSize() == 0 || b.getSize() % PAGE != 0
          || b.getSize() > (1L << 40) || Long.compareUnsigned(b.getGpuVa(), VA_LIMIT) >= 0
          || !gpus.containsAll(b.getMappedGpusList())) {
        throw new CorruptImageException(bf, String.format("buffer %d: handle, gpu, domain, va"
            + " 0x%x or size %d out of range", b.getHandle(), b.getGpuVa(), b.getSize()));
      }
      checkSharing(bf, b);
    }
    String sf = "kfd-svm-" + pid + ".img";
    for (KfdSvmRangeEntry r : ranges) {
      if (r.getStart() % PAGE != 0 || r.getSize() == 0 || r.getSize() % PAGE != 0
          || Long.compareUnsigned(r.getSize(), MAX_SVM_BYTES) > 0
          || Long.compareUnsigned(r.getStart(), VA_LIMIT - r.getSize()) > 0
          || !gpus.containsAll(r.getAccessGpusList())) {
        throw new CorruptImageException(sf, String.format("range at 0x%x: size %d out of range"
            + " or unknown gpu", r.getStart(), r.getSize()));
      }
      long pages = r.getSize() / PAGE;
      long covered = 0;
      for (SvmResidencyRun run : r.getResidencyList()) {
        // uint32 fields: compared and summed unsigned, so no count wraps past 2^31 or 2^32
        long first = Integer.toUnsignedLong(run.getFirstPage());
        long runPages = Integer.toUnsignedLong(run.getPages());
        if (first != covered || runPages == 0 || runPages > pages - covered
            || (run.getLocation() != 0 && !gpus.contains(run.getLocation()))) {
          throw new CorruptImageException(sf, String.format("range at 0x%x: residency run at"
              + " page %d (%d pages) is out of order, empty, beyond the range or at an unknown"
              + " gpu", r.getStart(), first, runPages));
        }
        covered += runPages;
      }
      if (covered != pages) {
        throw new CorruptImageException(sf, String.format("range at 0x%x: residency covers %d"
            + " pages, expected %d", r.getStart(), covered, pages));
      }
    }
    checkNoOverlaps(bf, sf, bos, ranges);
    String qf = "kfd-queues-" + pid + ".img";
    Set<Integer> ids = new HashSet<>();
    for (KfdQueueEntry q : queues) {
      int slots = q.getRingSlots();
      long read = q.getReadIndex();
      long write = q.getWriteIndex();
      long preempted = q.getPreemptedPacket();
      boolean ok = ids.add(q.getQueueId()) && gpus.contains(q.getGpuId())
          && (q.getType() == QueueType.COMPUTE || q.getType() == QueueType.SDMA)
          && slots > 0 && slots <= MAX_RING_SLOTS && Integer.bitCount(slots) == 1
          && read >= 0 && write >= read && write - read <= slots
          && (preempted == 0 || (preempted - 1 >= read && preempted - 1 < write))
          && q.getPreemptedNextWorkgroup() >= 0 && ringInsideBuffer(q, bos);
      if (!ok) {
        throw new CorruptImageException(qf, String.format("queue %d: gpu, type, ring (%d slots"
            + " at 0x%x) or indexes (read %d, write %d, preempted %d) out of range",
            q.getQueueId(), slots, q.getRingVa(), read, write, preempted));
      }
      String disagreement = savedQueueDisagreement(q);
      if (disagreement != null) {
        throw new CorruptImageException(qf, String.format("queue %d: the saved MQD and control"
            + " stack disagree with the entry: %s", q.getQueueId(), disagreement));
      }
    }
    Set<Integer> eventIds = new HashSet<>();
    for (KfdEventEntry e : events) {
      if (e.getEventId() <= 0 || !eventIds.add(e.getEventId()) || e.getSignalCount() < 0
          || e.getSignalCount() > MAX_SIGNAL_COUNT) {
        throw new CorruptImageException("kfd-events-" + pid + ".img",
            "event " + e.getEventId() + " is listed twice or invalid, or its signal count "
                + Long.toUnsignedString(e.getSignalCount()) + " is beyond " + MAX_SIGNAL_COUNT);
      }
    }
  }

  /**
   * The dma-buf fields of one buffer agree: only VRAM is shared, an import names its dma-buf,
   * and only an import keeps the memory of a buffer its exporter freed.
   */
  private static void checkSharing(String file, KfdBoEntry b) {
    String wrong = null;
    if (b.getDmabufId() != 0 && b.getDomain() != BoDomain.VRAM) {
      wrong = String.format("shared as dma-buf %d but not a VRAM buffer", b.getDmabufId());
    } else if (b.getImported() && b.getDmabufId() == 0) {
      wrong = "imported from no dma-buf";
    } else if (b.getKeepsMemory() && !b.getImported()) {
      wrong = "keeps a freed dma-buf's memory but is not an import";
    }
    if (wrong != null) {
      throw new CorruptImageException(file, String.format("buffer %d: %s", b.getHandle(),
          wrong));
    }
  }

  /**
   * Buffers and SVM ranges share one GPU address space, so none may overlap another: a buffer
   * overlapping a buffer is the buffers' file's fault, a range overlapping either the ranges'.
   * Addresses and sizes are already bounded, so no end wraps.
   */
  private static void checkNoOverlaps(String bf, String sf, List<KfdBoEntry> bos,
      List<KfdSvmRangeEntry> ranges) {
    TreeMap<Long, long[]> taken = new TreeMap<>(); // start -> {end, 0 for a buffer, 1 for SVM}
    for (KfdBoEntry b : bos) {
      claim(taken, bf, b.getGpuVa(), b.getSize(), 0);
    }
    for (KfdSvmRangeEntry r : ranges) {
      claim(taken, sf, r.getStart(), r.getSize(), 1);
    }
  }

  private static void claim(TreeMap<Long, long[]> taken, String file, long start, long size,
      long kind) {
    long end = start + size;
    var below = taken.floorEntry(start);
    var above = taken.ceilingEntry(start);
    var other = below != null && below.getValue()[0] > start ? below
        : above != null && above.getKey() < end ? above : null;
    if (other != null) {
      throw new CorruptImageException(file, String.format("%s 0x%x-0x%x overlaps %s 0x%x-0x%x",
          kind == 0 ? "buffer" : "SVM range", start, end,
          other.getValue()[1] == 0 ? "buffer" : "SVM range", other.getKey(),
          other.getValue()[0]));
    }
    taken.put(start, new long[] {end, kind});
  }

  /**
   * What the raw MQD and control stack say that the decoded fields do not, or null when they
   * agree: the device would reload the queue from the raw bytes.
   */
  private static String savedQueueDisagreement(KfdQueueEntry q) {
    SavedQueue s = SavedQueue.parse(q.getMqd(), q.getCtlStack());
    if (s == null) {
      return String.format("lengths %d and %d bytes, expected %d and %d (reserved bytes zero)",
          q.getMqd().size(), q.getCtlStack().size(), SavedQueue.MQD_BYTES,
          SavedQueue.CTL_STACK_BYTES);
    }
    long[][] pairs = {
        {s.queueId(), q.getQueueId()}, {s.type(), q.getTypeValue()},
        {s.priority(), q.getPriority()}, {s.ringVa(), q.getRingVa()},
        {s.slots(), q.getRingSlots()}, {s.readIndex(), q.getReadIndex()},
        {s.writeIndex(), q.getWriteIndex()}, {s.active(), 0},
        {Math.max(0, s.preemptedPacket() + 1), q.getPreemptedPacket()},
        {s.nextWorkgroup(), q.getPreemptedNextWorkgroup()}};
    String[] names = {"queue id", "type", "priority", "ring address", "ring slots",
        "read index", "write index", "active", "preempted packet", "next workgroup"};
    for (int i = 0; i < pairs.length; i++) {
      if (pairs[i][0] != pairs[i][1]) {
        return String.format("%s %d in the saved queue, %d in the entry", names[i],
            pairs[i][0], pairs[i][1]);
      }
    }
    return null;
  }

  private static boolean ringInsideBuffer(KfdQueueEntry q, List<KfdBoEntry> bos) {
    long end = q.getRingVa() + (long) q.getRingSlots() * 64;
    for (KfdBoEntry b : bos) {
      if ((b.getDomain() == BoDomain.GTT || b.getDomain() == BoDomain.USERPTR)
          && q.getRingVa() >= b.getGpuVa() && end <= b.getGpuVa() + b.getSize()) {
        return true;
      }
    }
    return false;
  }
}
