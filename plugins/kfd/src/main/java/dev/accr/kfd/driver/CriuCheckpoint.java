package dev.accr.kfd.driver;

import dev.accr.api.AccrException;
import dev.accr.kfd.proto.KfdBoEntry;
import dev.accr.kfd.proto.KfdDeviceEntry;
import dev.accr.kfd.proto.KfdEventEntry;
import dev.accr.kfd.proto.KfdProcessEntry;
import dev.accr.kfd.proto.KfdQueueEntry;
import dev.accr.kfd.proto.KfdSvmRangeEntry;
import dev.accr.kfd.proto.SvmResidencyRun;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/** PROCESS_INFO and CHECKPOINT: a paused process's device state as entries. */
final class CriuCheckpoint {
  private CriuCheckpoint() {}

  /** See {@link KfdCriu#processInfo}. */
  static KfdProcessEntry processInfo(KfdProcess p) {
    List<HwQueue> queues = p.queueList();
    for (HwQueue q : queues) {
      q.requestPause(); // every queue stops at once: the waits overlap
    }
    for (HwQueue q : queues) {
      q.awaitPaused();
    }
    List<KfdCriu.VramExtent> vram = VramExtents.all(p);
    synchronized (p) {
      return KfdProcessEntry.newBuilder().setPid(p.pid()).setNumDevices(p.vm.gpus().size())
          .setNumBos(p.vm.bos().size()).setNumQueues(p.queues.size())
          .setNumEvents(p.events.snapshot().size()).setNumSvmRanges(p.vm.svmRanges().size())
          .setVramBytes(vram.stream().mapToLong(KfdCriu.VramExtent::length).sum())
          .setNextQueueId(p.nextQueueId).setNextEventId(p.events.nextId())
          .setNextHandle(p.nextHandle).addAllCodeObjectIsas(p.vm.codeObjectIsas()).build();
    }
  }

  /** See {@link KfdCriu#checkpoint}. */
  static KfdCriu.Checkpoint checkpoint(KfdProcess p, KfdProcessEntry info) {
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
    return new KfdCriu.Checkpoint(info, devices, bos, queues, events, ranges);
  }
}
