package dev.accr.kfd.plugin;

import com.google.protobuf.Descriptors;
import dev.accr.api.AccrException;
import dev.accr.api.AccrPlugin;
import dev.accr.api.CorruptImageException;
import dev.accr.api.DeviceFile;
import dev.accr.api.DeviceStage;
import dev.accr.api.DeviceMemoryServer;
import dev.accr.api.DeviceMapping;
import dev.accr.api.DevicePair;
import dev.accr.api.PluginContext;
import dev.accr.api.PluginImages;
import dev.accr.api.PluginOption;
import dev.accr.api.PluginReport;
import dev.accr.api.ProcessView;
import dev.accr.kfd.driver.Gpu;
import dev.accr.kfd.driver.KfdCriu;
import dev.accr.kfd.driver.KfdDriver;
import dev.accr.kfd.driver.DmaBufFile;
import dev.accr.kfd.driver.KfdProcess;
import dev.accr.kfd.driver.RenderNode;
import dev.accr.kfd.proto.KfdBoEntry;
import dev.accr.kfd.proto.KfdDeviceEntry;
import dev.accr.kfd.proto.KfdEventEntry;
import dev.accr.kfd.proto.KfdProcessEntry;
import dev.accr.kfd.proto.KfdQueueEntry;
import dev.accr.kfd.proto.KfdSvmRangeEntry;
import dev.accr.kfd.proto.KfdVramWritten;
import dev.accr.proto.Topology;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checkpoints processes that use KFD GPUs, after CRIU's amdgpu plugin. Dump: once the process
 * is frozen, PROCESS_INFO preempts its queues (a host thread blocked on a GPU event would
 * otherwise never reach the freezer), CHECKPOINT's state goes to structured entries and VRAM
 * through the SDMA engines into per-GPU bulk files; the queues run again after
 * {@code --leave-running} or a failed dump. Restore: GPUs are mapped in {@code mapDevices}
 * ({@link GpuMapper}) and bound to the process in {@code postForking},
 * device mappings moved in {@code updateVmaMap}, the state and VRAM recreated when
 * {@code /dev/kfd} is reopened, and the queues resumed last.
 *
 * <p>Options ({@code --plugin-opt kfd.NAME=VALUE}) are declared in {@link #options}.
 */
public final class KfdPlugin implements AccrPlugin {
  public static final String NAME = "kfd";

  private final IncrementalVram incremental = new IncrementalVram();

  /** The target GPU chosen for each GPU of the image, by id, before the process exists. */
  private record Plan(Map<Integer, Integer> targets) {}

  /** The GPU mapping of a restore, once the process exists. */
  private record Mapping(int pid, List<KfdDeviceEntry> devices, Map<Integer, Gpu> gpus) {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public int apiVersion() {
    return API_VERSION;
  }

  @Override
  public Descriptors.Descriptor imageEntryType(String what) {
    return switch (what) {
      case "process" -> KfdProcessEntry.getDescriptor();
      case "devices" -> KfdDeviceEntry.getDescriptor();
      case "bos" -> KfdBoEntry.getDescriptor();
      case "queues" -> KfdQueueEntry.getDescriptor();
      case "events" -> KfdEventEntry.getDescriptor();
      case "svm" -> KfdSvmRangeEntry.getDescriptor();
      case "vram-written" -> KfdVramWritten.getDescriptor();
      default -> null;
    };
  }

  @Override
  public List<PluginOption> options() {
    return List.of(
        PluginOption.choice("vram-copy", "dma", List.of("dma", "cpu", "auto"),
            "how VRAM is copied: by the SDMA engines, by the CPU through the visible window,"
                + " or both"),
        PluginOption.integer("staging-mib", StagingPool.DEFAULT_BYTES >> 20, 4, 65536,
            "host memory (MiB) for staging VRAM between the SDMA engines and the image files"));
  }

  @Override
  public PluginReport summarize(PluginImages images) {
    return KfdReports.summarize(images);
  }

  @Override
  public boolean compactImages(PluginImages last, PluginImages out) {
    return KfdCompaction.compact(last, out);
  }

  @Override
  public PluginReport diff(PluginImages from, PluginImages to) {
    return KfdDiffs.diff(from, to);
  }

  /**
   * {@code accr check}: for every process, the checks restore makes of its kfd images
   * ({@link KfdImageChecks}) and of the GPUs a mapping needs ({@link ImageGpus}).
   */
  @Override
  public void checkImages(PluginImages images) {
    ImageGpus.read(images);
    for (long id : images.entryIds("process")) {
      int pid = (int) id;
      List<KfdDeviceEntry> devices = images.readEntries("devices", pid, KfdDeviceEntry.parser());
      List<KfdProcessEntry> infos = images.readEntries("process", pid, KfdProcessEntry.parser());
      if (infos.size() != 1 || id != pid) {
        throw new CorruptImageException("kfd-process-" + id + ".img", "entries: actual="
            + infos.size() + " expected=1");
      }
      KfdProcessEntry info = KfdRestoreState.withIsas(infos.getFirst(), devices);
      if (!images.hasEntries("queues", pid) && !images.hasEntries("events", pid)) {
        // A pre-dump saves memory only: its process entry counts queues it did not write.
        info = info.toBuilder().setNumQueues(0).setNumEvents(0).build();
      }
      KfdImageChecks.check(pid, info, devices,
          images.readEntries("bos", pid, KfdBoEntry.parser()),
          optional(images, "queues", pid, KfdQueueEntry.parser()),
          optional(images, "events", pid, KfdEventEntry.parser()),
          images.readEntries("svm", pid, KfdSvmRangeEntry.parser()));
    }
  }

  /** Entries a pre-dump does not write (it saves memory only); the inventory lists the rest. */
  private static <T extends com.google.protobuf.MessageLite> List<T> optional(
      PluginImages images, String what, int pid, com.google.protobuf.Parser<T> parser) {
    return images.hasEntries(what, pid) ? images.readEntries(what, pid, parser) : List.of();
  }

  @Override
  public Set<String> relaxableChecks() {
    return GpuChecks.RELAXABLE;
  }

  @Override
  public List<DevicePair> mapDevices(PluginContext ctx, Topology target) {
    if (ctx.images().entryIds("devices").isEmpty()) {
      return List.of();
    }
    // The restore reads these entries again: they are parsed once for the operation.
    List<DevicePair> pairs = GpuMapper.map(ImageGpus.read(ctx.images(),
        pid -> KfdEntries.of(ctx, pid)), target, ctx.mappingPolicy());
    Map<Integer, Integer> targets = new LinkedHashMap<>();
    pairs.forEach(p -> targets.put(p.imageId(), p.targetId()));
    ProcessStates.of(ctx).setOperation(new Plan(targets));
    return pairs;
  }

  private static KfdDriver driver(PluginContext ctx) {
    return ctx.node().topology().getDevicesList().stream().anyMatch(d -> d.getType().equals(NAME))
        ? ctx.node().driver(NAME, KfdDriver.class) : null;
  }

  /**
   * Pauses the queues of every process of a tree before any of them is saved: a GPU of one
   * process could otherwise still write into a buffer it imported from another process whose
   * VRAM was already saved. {@link #fini} resumes them as for a single process.
   */
  @Override
  public void treeFrozen(PluginContext ctx, List<ProcessView> tree) {
    KfdDriver driver = driver(ctx);
    if (driver == null || tree.size() < 2) {
      return;
    }
    for (ProcessView process : tree) {
      KfdProcess kfd = driver.process(process.pid());
      if (kfd != null) {
        KfdCriu.processInfo(kfd); // PROCESS_INFO pauses the queues
        ProcessStates.of(ctx).put(kfd.pid(), new DumpInProgress(kfd, true));
      }
    }
  }

  @Override
  public boolean checkpointDevices(PluginContext ctx, ProcessView process) {
    KfdDriver driver = driver(ctx);
    KfdProcess kfd = driver == null ? null : driver.process(process.pid());
    if (kfd == null) {
      return false;
    }
    KfdProcessEntry info = KfdCriu.processInfo(kfd);
    ProcessStates.of(ctx).put(kfd.pid(), new DumpInProgress(kfd, true));
    KfdCriu.Checkpoint cp = KfdCriu.checkpoint(kfd, info);
    PluginImages images = ctx.images();
    long pid = process.pid();
    images.writeEntries("process", pid, List.of(VramFiles.mark(cp.process())));
    images.writeEntries("devices", pid, cp.devices());
    images.writeEntries("bos", pid, cp.bos());
    SharedBuffersDumped.of(ctx).process(process.pid(), cp.bos());
    images.writeEntries("queues", pid, cp.queues());
    images.writeEntries("events", pid, cp.events());
    images.writeEntries("svm", pid, cp.svmRanges());
    if (!ctx.memoryServedLater()) { // post-copy: serveDeviceMemory serves the VRAM
      // A process that runs on may get a child link: as for host memory, even a full dump
      // (dump -R) begins a tracking period, so that the next link stores only what changed.
      incremental.dumpVram(ctx, kfd, pid, cp.devices().stream().map(KfdDeviceEntry::getGpuId)
          .toList(), ctx.leaveRunning());
    }
    return true;
  }

  @Override
  public boolean servesDeviceMemory() {
    return true;
  }

  @Override
  public DeviceMemoryServer serveDeviceMemory(PluginContext ctx, ProcessView process) {
    KfdDriver driver = driver(ctx);
    KfdProcess kfd = driver == null ? null : driver.process(process.pid());
    if (kfd == null) {
      return null;
    }
    VramServer server = VramServer.of(driver, kfd);
    ProcessStates.of(ctx).put(kfd.pid(), server); // its queues stay paused: see fini
    return server;
  }

  @Override
  public boolean tracksWrites() {
    return true;
  }

  /** A pre-dump: VRAM only, chosen while frozen and copied while the process runs. */
  @Override
  public boolean preDumpDevices(PluginContext ctx, ProcessView process) {
    KfdDriver driver = driver(ctx);
    KfdProcess kfd = driver == null ? null : driver.process(process.pid());
    return kfd != null && incremental.preDump(ctx, kfd, process.pid());
  }

  @Override
  public void preDumpDevicesRunning(PluginContext ctx, ProcessView process) {
    incremental.preDumpRunning(ctx, process.pid());
  }

  @Override
  public boolean dumpExtFile(PluginContext ctx, ProcessView process, int fd, DeviceFile file) {
    if (file instanceof DmaBufFile f) { // reopened by path; the exporter saves the buffer
      SharedBuffersDumped.of(ctx).descriptor(process.pid(), fd, f.buffer());
      return true;
    }
    // The state behind /dev/kfd was saved by checkpointDevices; a render node is only a path.
    return file instanceof KfdProcess || file instanceof RenderNode;
  }

  /** Every buffer in use by a dumped process was saved with its exporter. */
  @Override
  public void dumpDevicesLate(PluginContext ctx) {
    SharedBuffersDumped.of(ctx).check();
  }

  @Override
  public boolean handleDeviceVma(PluginContext ctx, ProcessView process, DeviceMapping vma) {
    return vma.path().equals(KfdProcess.PATH); // doorbell and MMIO pages: device, no contents
  }

  @Override
  public void fini(PluginContext ctx, boolean ok) {
    ProcessStates states = ProcessStates.of(ctx);
    for (DumpInProgress dump : states.all(DumpInProgress.class)) {
      // A process whose VRAM is served (post-copy) stays stopped, its GPUs too, so that what
      // is served is what was dumped: its server resumes the queues when it is closed.
      boolean served = ok && states.get(VramServer.class, dump.kfd().pid()) != null;
      if (dump.paused() && (!ok || ctx.leaveRunning()) && !served) {
        KfdCriu.resume(dump.kfd()); // UNPAUSE: the process continues as it was
      }
      incremental.finish(dump, ok);
    }
    SharedBuffersRestored shared = SharedBuffersRestored.existing(ctx);
    if (shared != null) {
      shared.discardUnused();
    }
  }

  @Override
  public void postForking(PluginContext ctx, ProcessView process) {
    if (!ctx.images().hasEntries("devices", process.pid())) {
      return;
    }
    List<KfdDeviceEntry> devices = KfdEntries.of(ctx, process.pid()).devices();
    KfdDriver driver = driver(ctx);
    Plan plan = ProcessStates.of(ctx).operation(Plan.class);
    if (driver == null || plan == null) {
      throw AccrException.incompatible("kfd: the image needs %d GPUs; node %s has none",
          devices.size(), ctx.node().name());
    }
    Map<Integer, Gpu> gpus = new LinkedHashMap<>();
    for (KfdDeviceEntry d : devices) {
      Integer physical = plan.targets().get(d.getGpuId());
      if (physical == null) {
        throw new CorruptImageException("kfd-devices-" + process.pid() + ".img", String.format(
            "gpu 0x%x was not in the mapping", d.getGpuId()));
      }
      gpus.put(d.getGpuId(), driver.gpu(physical));
    }
    ProcessStates.of(ctx).put(process.pid(), new Mapping(process.pid(), devices, gpus));
  }

  @Override
  public DeviceMapping updateVmaMap(PluginContext ctx, ProcessView process, DeviceMapping vma) {
    if (!vma.path().equals(KfdProcess.PATH)) {
      return null;
    }
    Gpu target = targetOfPhysical(ctx, process.pid(), (int) ((vma.offset() >>> 12) & 0xffffffffL), vma.path());
    long type = vma.offset() & (3L << 62);
    return new DeviceMapping(vma.start(), vma.length(), vma.prot(), vma.path(),
        type | ((long) target.gpuId() << 12));
  }

  @Override
  public DeviceFile restoreExtFile(PluginContext ctx, ProcessView process, int fd, String path) {
    KfdDriver driver = driver(ctx);
    long dmaBuf = DmaBufFile.idOf(path);
    if (dmaBuf > 0 && driver != null) {
      return SharedBuffersRestored.of(ctx, driver).open(dmaBuf);
    }
    Mapping mapping = ProcessStates.of(ctx).get(Mapping.class, process.pid());
    if (mapping == null) {
      return null;
    }
    if (!path.equals(KfdProcess.PATH)) {
      for (KfdDeviceEntry d : mapping.devices()) {
        if (path.equals("/dev/dri/renderD" + d.getDevice().getDrmRenderMinor())) {
          return driver.openRender(mapping.gpus().get(d.getGpuId()).gpuId());
        }
      }
      return null;
    }
    KfdProcess kfd = driver.attach(process, mapping.gpus());
    try {
      KfdRestoreState.restore(ctx, kfd, process.pid(), mapping.devices());
      return kfd;
    } catch (RuntimeException e) {
      kfd.close();
      throw e;
    }
  }

  @Override
  public boolean stageDeviceMemory(PluginImages round, long pid, DeviceStage stage) {
    StagedVram staged = stage.state() instanceof StagedVram v ? v : null;
    if (staged == null) {
      staged = new StagedVram();
      stage.keep(staged);
    }
    return staged.stage(round, pid);
  }

  @Override
  public boolean restoresLazily() {
    return true;
  }

  /**
   * Every process of the restore exists: an import still waiting for its exporter means the
   * image lacks it (exit 3), found before any process is adopted or resumed.
   */
  @Override
  public void treeRestored(PluginContext ctx, List<ProcessView> tree) {
    SharedBuffersRestored shared = SharedBuffersRestored.existing(ctx);
    if (shared != null) {
      for (ProcessView process : tree) {
        shared.checkResolved(process.pid());
      }
    }
  }

  @Override
  public boolean resumeDevicesLate(PluginContext ctx, ProcessView process) {
    KfdDriver driver = driver(ctx);
    KfdProcess kfd = driver == null ? null : driver.process(process.pid());
    if (kfd == null) {
      return false;
    }
    KfdCriu.resume(kfd); // RESUME
    return true;
  }

  /** The GPU now standing for the one with physical id {@code physical} in the image. */
  private static Gpu targetOfPhysical(PluginContext ctx, int pid, int physical, String what) {
    Mapping mapping = ProcessStates.of(ctx).get(Mapping.class, pid);
    if (mapping != null) {
      for (KfdDeviceEntry d : mapping.devices()) {
        if (d.getDevice().getGpuId() == physical) {
          return mapping.gpus().get(d.getGpuId());
        }
      }
    }
    throw new CorruptImageException("mm-" + pid + ".img", String.format("%s mapping names gpu 0x%x,"
        + " which the kfd images do not list", what, physical));
  }
}
