package dev.accr.kfd.plugin;

import dev.accr.api.CorruptImageException;
import dev.accr.api.PluginContext;
import dev.accr.kfd.driver.KfdCriu;
import dev.accr.kfd.driver.KfdDriver;
import dev.accr.kfd.driver.KfdProcess;
import dev.accr.kfd.proto.KfdBoEntry;
import dev.accr.kfd.proto.KfdDeviceEntry;
import dev.accr.kfd.proto.KfdEventEntry;
import dev.accr.kfd.proto.KfdProcessEntry;
import dev.accr.kfd.proto.KfdQueueEntry;
import dev.accr.kfd.proto.KfdSvmRangeEntry;
import java.util.List;

/**
 * RESTORE of one process's kfd state from its images, once {@code /dev/kfd} is reopened:
 * checks, buffers, SVM ranges, events and paused queues, VRAM contents, then the buffers it
 * shares with other processes of the restore ({@link SharedBuffersRestored}).
 */
final class KfdRestoreState {
  private KfdRestoreState() {}

  /** Restores the state of process {@code pid} into {@code kfd} (mapped on {@code devices}). */
  static void restore(PluginContext ctx, KfdProcess kfd, int pid,
      List<KfdDeviceEntry> devices) {
    KfdEntries entries = KfdEntries.of(ctx, pid); // parsed once, by the mapping mostly
    KfdProcessEntry process = entries.process();
    List<KfdBoEntry> bos = entries.bos();
    List<KfdQueueEntry> queues = entries.queues();
    List<KfdEventEntry> events = entries.events();
    List<KfdSvmRangeEntry> ranges = entries.svmRanges();
    KfdProcessEntry info = withIsas(process, devices);
    KfdImageChecks.check(pid, info, devices, bos, queues, events, ranges);
    KfdCriu.restore(kfd, info, bos, queues, events, ranges);
    String progress;
    try {
      progress = KfdCriu.preemptedProgressProblem(kfd);
    } catch (RuntimeException e) {
      progress = "a preempted packet cannot be read: " + e.getMessage();
    }
    if (progress != null) {
      throw new CorruptImageException("kfd-queues-" + pid + ".img", progress);
    }
    List<Integer> gpuIds = devices.stream().map(KfdDeviceEntry::getGpuId).toList();
    if (bos.stream().anyMatch(KfdBoEntry::getKeepsMemory)) { // before their contents load
      SharedBuffersRestored.of(ctx, ctx.node().driver(KfdPlugin.NAME, KfdDriver.class))
          .keptRestored(kfd, bos);
    }
    if (!LazyVram.restore(ctx, pid, gpuIds, KfdCriu.vramExtents(kfd))) {
      List<KfdCriu.VramExtent> extents = KfdCriu.vramExtents(kfd);
      new VramRestorer(ctx, CopyMode.parse(ctx.option("vram-copy", "dma")))
          .restoreChain(pid, gpuIds, extents, StagedVram.adopt(ctx, pid, extents));
    }
    if (bos.stream().anyMatch(b -> b.getDmabufId() != 0)) {
      SharedBuffersRestored.of(ctx, ctx.node().driver(KfdPlugin.NAME, KfdDriver.class))
          .restored(kfd, bos);
    }
  }

  /** Images written before code objects were recorded: the ISAs of the devices. */
  static KfdProcessEntry withIsas(KfdProcessEntry info, List<KfdDeviceEntry> devices) {
    if (info.getCodeObjectIsasCount() != 0) {
      return info;
    }
    return info.toBuilder().addAllCodeObjectIsas(devices.stream()
        .map(d -> d.getDevice().getGfxTargetVersion()).distinct().sorted().toList()).build();
  }
}
