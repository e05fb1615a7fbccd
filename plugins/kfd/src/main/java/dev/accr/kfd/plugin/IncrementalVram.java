package dev.accr.kfd.plugin;

import dev.accr.api.PluginContext;
import dev.accr.api.PluginImages;
import dev.accr.kfd.driver.DirtyPages;
import dev.accr.kfd.driver.KfdCriu;
import dev.accr.kfd.driver.KfdProcess;
import dev.accr.kfd.proto.KfdVramWritten;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * How the kfd plugin saves VRAM, in full or incrementally: which VRAM a dump or pre-dump
 * stores (all of it, or what the driver's dirty tracking reports written since the parent),
 * the {@code kfd-vram-written} range list of an incremental set (packed: the written pages
 * of each GPU stored back to back, see {@link PackedRuns}), and the tracking periods a chain
 * builds on. Restoring a chain is {@link VramRestorer#restoreChain}.
 */
final class IncrementalVram {
  /** The checkpoint id of the set that began each process's tracking period. */
  private final Map<KfdProcess, String> trackedSince =
      Collections.synchronizedMap(new WeakHashMap<>());

  /**
   * The frozen half of a pre-dump: with the queues paused just for it, begins a tracking
   * period (a later dump with this set as parent builds on it) and chooses the VRAM to save;
   * {@link #preDumpRunning} copies it once the process runs again.
   */
  boolean preDump(PluginContext ctx, KfdProcess kfd, long pid) {
    KfdCriu.Checkpoint cp = KfdCriu.checkpoint(kfd, KfdCriu.processInfo(kfd));
    ProcessStates states = ProcessStates.of(ctx);
    states.put(kfd.pid(), new DumpInProgress(kfd, true));
    List<VramPieces> chosen = null;
    try {
      // What a device mapping reads, so that a target can check a pre-dump before a stop.
      writeMappingEntries(ctx.images(), pid, cp);
      // A probe of a migration stores no VRAM and leaves write tracking as it was.
      chosen = ctx.memoryServedLater() ? null : choose(ctx, kfd, pid, kfd.gpuIds(), true);
    } finally {
      KfdCriu.resume(kfd);
      DumpInProgress p = states.get(DumpInProgress.class, kfd.pid());
      states.put(kfd.pid(), new DumpInProgress(kfd, false, p.taken(), p.label(), chosen,
          p.beganTracking()));
    }
    return true;
  }

  private static void writeMappingEntries(PluginImages images, long pid, KfdCriu.Checkpoint cp) {
    images.writeEntries("process", pid, List.of(VramFiles.mark(cp.process())));
    images.writeEntries("devices", pid, cp.devices());
    images.writeEntries("bos", pid, cp.bos());
    images.writeEntries("svm", pid, cp.svmRanges());
  }

  /**
   * The running half of a pre-dump: copies what {@link #preDump} chose while the process
   * runs; what it writes meanwhile is in the new tracking period, so the next dump stores it
   * again.
   */
  void preDumpRunning(PluginContext ctx, int pid) {
    DumpInProgress dump = ProcessStates.of(ctx).get(DumpInProgress.class, pid);
    if (dump != null && dump.toCopy() != null) {
      copy(ctx, pid, dump.toCopy(), true);
    }
  }

  /**
   * Saves VRAM of a frozen process with its queues paused (see {@link #choose}), and with
   * {@code track} begins a tracking period with this set.
   */
  void dumpVram(PluginContext ctx, KfdProcess kfd, long pid, List<Integer> gpuIds,
      boolean track) {
    copy(ctx, pid, choose(ctx, kfd, pid, gpuIds, track), false);
  }

  /**
   * The VRAM to save, queues paused: in an incremental dump whose parent began this process's
   * tracking period, only what was written since (and the {@code vram-written} list of those
   * ranges); otherwise all of it. With {@code track}, a new tracking period begins with this
   * set.
   */
  private List<VramPieces> choose(PluginContext ctx, KfdProcess kfd, long pid,
      List<Integer> gpuIds, boolean track) {
    PluginImages images = ctx.images();
    PluginImages parent = images.parent();
    DirtyPages taken = null;
    DirtyPages ended = null;
    boolean began = false;
    if (parent != null && KfdCriu.isDirtyTracking(kfd)
        && parent.checkpointId().equals(trackedSince.get(kfd))) {
      taken = KfdCriu.dirtyPages(kfd, true);
    } else if (track && KfdCriu.isDirtyTracking(kfd)) {
      // The running period ends by taking its pages rather than clearing them: a dump that
      // fails gives them back, so that period goes on and a link on the set that began it
      // still finds every page written since.
      ended = KfdCriu.dirtyPages(kfd, true);
    } else if (track) {
      KfdCriu.startDirtyTracking(kfd);
      began = true;
    }
    // Recorded before anything else can fail, so that finish() gives back what was taken.
    ProcessStates states = ProcessStates.of(ctx);
    DumpInProgress dump = states.get(DumpInProgress.class, kfd.pid());
    states.put(kfd.pid(), new DumpInProgress(kfd, dump != null && dump.paused(),
        taken != null ? taken : ended, track || taken != null ? images.checkpointId() : null,
        null, began));
    // Without a parent, or when the parent's VRAM is not this one's base: every byte is
    // stored, none inherited.
    List<KfdCriu.VramExtent> extents = taken != null ? KfdCriu.dirtyVramExtents(kfd, taken)
        : KfdCriu.vramExtents(kfd);
    // A process the parent lacks (forked since) makes this link a full one of its own.
    // A dump that took written pages builds on its parent whether or not this node can read
    // the parent (a migration's parent lives on the target).
    boolean incremental = parent != null && (taken != null || parent.hasEntries("process", pid));
    CopyMode mode = CopyMode.parse(ctx.option("vram-copy", "dma"));
    List<VramPieces> pieces = new ArrayList<>();
    List<KfdVramWritten> written = new ArrayList<>();
    for (int gpuId : gpuIds) {
      List<KfdCriu.VramExtent> mine = extents.stream().filter(e -> e.gpuId() == gpuId).toList();
      pieces.add(VramPieces.of(gpuId, mine, mode, incremental));
      written.add(PackedRuns.entry(gpuId, mine));
    }
    if (incremental) {
      // The written ranges, packed: their bytes follow one another in one stream per GPU.
      images.writeEntries("vram-written", pid, written);
    }
    return pieces;
  }

  private static void copy(PluginContext ctx, long pid, List<VramPieces> pieces,
      boolean running) {
    try (StagingPool staging = new StagingPool(
        StagingPool.parseMib(ctx.option("staging-mib", "64")))) {
      new VramDumper(ctx, pid, staging, running).dump(pieces);
    }
  }

  /**
   * The end of a dump's session: a failed dump gives the written pages it took back (the next
   * dump stores them) and stops the tracking it started; a successful one that began a
   * tracking period records it.
   */
  void finish(DumpInProgress dump, boolean ok) {
    if (dump != null && !ok && dump.taken() != null) {
      KfdCriu.redirty(dump.kfd(), dump.taken());
    }
    if (dump != null && !ok && dump.beganTracking()) {
      KfdCriu.stopDirtyTracking(dump.kfd()); // as before the dump: writes cost nothing extra
    }
    if (dump != null && ok && dump.label() != null) {
      trackedSince.put(dump.kfd(), dump.label());
    }
  }
}
