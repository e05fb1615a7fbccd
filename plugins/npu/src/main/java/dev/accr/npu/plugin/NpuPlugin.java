package dev.accr.npu.plugin;

import com.google.protobuf.Descriptors;
import dev.accr.api.AccrException;
import dev.accr.api.AccrPlugin;
import dev.accr.api.CorruptImageException;
import dev.accr.api.DeviceFile;
import dev.accr.api.DevicePair;
import dev.accr.api.PluginContext;
import dev.accr.api.PluginImages;
import dev.accr.api.PluginOption;
import dev.accr.api.PluginReport;
import dev.accr.api.ProcessView;
import dev.accr.npu.driver.NpuContext;
import dev.accr.npu.driver.NpuDriver;
import dev.accr.npu.proto.NpuDeviceEntry;
import dev.accr.proto.Topology;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checkpoints processes that use npus. The npu driver does the real work, as cuda-checkpoint
 * does for CUDA; this plugin only drives its state machine and remembers which npu each
 * descriptor used:
 *
 * <ul>
 *   <li>dump: {@code pauseDevices} locks every context of the process (new work waits, work in
 *       flight drains, within {@code npu.lock-timeout-ms}); {@code checkpointDevices}, once
 *       the process is frozen, checkpoints them (device memory and state go into the process's
 *       host memory, which the core then dumps; the device is released); {@code fini} restores
 *       and unlocks them after a failed dump or with {@code --leave-running};
 *   <li>restore: {@code mapDevices} chooses the target npus ({@link NpuMapper}),
 *       {@code restoreExtFile} reopens each descriptor on its target, still checkpointed, and
 *       {@code resumeDevicesLate}, with host memory in place, restores and unlocks them.
 * </ul>
 *
 * <p>Images: {@code npu-devices-<pid>.img}, one {@link NpuDeviceEntry} per descriptor.
 */
public final class NpuPlugin implements AccrPlugin {
  public static final String NAME = "npu";
  static final String DEVICES = "devices";

  /** What a dump did to the process's contexts, for fini and the images. */
  private static final class Dump {
    final int pid;
    final Map<NpuContext, Long> drained = new LinkedHashMap<>();
    final Map<NpuContext, NpuDeviceEntry.Builder> entries = new LinkedHashMap<>();

    Dump(int pid) {
      this.pid = pid;
    }
  }

  /** The choice of a restore: target npu id by image npu id, and the image's entries. */
  private record Restore(Map<Integer, Integer> targets, List<NpuDeviceEntry> entries,
      long pid, List<RestoredContext> reopened) {}

  private record RestoredContext(NpuContext context, NpuDeviceEntry entry) {}

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
    return what.equals(DEVICES) ? NpuDeviceEntry.getDescriptor() : null;
  }

  @Override
  public List<PluginOption> options() {
    return List.of(PluginOption.integer("lock-timeout-ms", 10000, 1, 3_600_000,
        "how long a dump waits for the jobs in flight on an npu to drain"));
  }

  @Override
  public PluginReport summarize(PluginImages images) {
    return NpuReports.summarize(images);
  }

  @Override
  public PluginReport diff(PluginImages from, PluginImages to) {
    return NpuReports.diff(from, to);
  }

  /**
   * {@code accr check}: each process's entries describe descriptors and save areas that
   * restore can reopen ({@link NpuContext#checkSavedEntry}); what the save areas hold is
   * checked when they are read back from the restored host memory.
   */
  @Override
  public void checkImages(PluginImages images) {
    for (long pid : images.entryIds(DEVICES)) {
      List<NpuDeviceEntry> entries = images.readEntries(DEVICES, pid, NpuDeviceEntry.parser());
      NpuMapper.imageNpus(entries);
      Set<Integer> fds = new java.util.HashSet<>();
      for (NpuDeviceEntry e : entries) {
        String file = "npu-devices-" + pid + ".img";
        if (!fds.add(e.getFd())) {
          throw new CorruptImageException(file, "fd " + e.getFd() + " is listed twice");
        }
        NpuContext.checkSavedEntry(e.getSaveAddress(), e.getSaveLength(), e.getAllocatedBytes(),
            file);
      }
    }
  }

  @Override
  public Set<String> relaxableChecks() {
    return Set.of(NpuMapper.FW, NpuMapper.MEMORY);
  }

  private static NpuDriver driver(PluginContext ctx) {
    return ctx.node().topology().getDevicesList().stream()
        .anyMatch(d -> d.getType().equals(NpuDriver.TYPE))
        ? ctx.node().driver(NpuDriver.TYPE, NpuDriver.class) : null;
  }

  @Override
  public boolean pauseDevices(PluginContext ctx, ProcessView process) {
    NpuDriver driver = ctx.stage() == Stage.DUMP ? driver(ctx) : null;
    List<NpuContext> contexts = driver == null ? List.of() : driver.contexts(process.pid());
    if (contexts.isEmpty()) {
      return false;
    }
    long timeoutMs = parseTimeout(ctx.option("lock-timeout-ms", "10000"));
    Dump dump = new Dump(process.pid());
    ctx.attach(dump); // before locking: fini unlocks whatever was locked if the next one fails
    for (NpuContext c : contexts) {
      long drained = c.lock(timeoutMs);
      dump.drained.put(c, drained);
    }
    return true;
  }

  private static long parseTimeout(String raw) {
    try {
      long ms = Long.parseLong(raw);
      if (ms > 0) {
        return ms;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw AccrException.usage("--plugin-opt npu.lock-timeout-ms: not a positive number: '%s'",
        raw);
  }

  @Override
  public boolean checkpointDevices(PluginContext ctx, ProcessView process) {
    Dump dump = ctx.attachment(Dump.class);
    if (dump == null || dump.pid != process.pid()) {
      return false;
    }
    for (var e : dump.drained.entrySet()) {
      NpuContext c = e.getKey();
      long allocated = c.allocatedBytes();
      c.checkpoint();
      dump.entries.put(c, NpuDeviceEntry.newBuilder().setDevice(c.npu().device())
          .setSaveAddress(c.saveAddress()).setSaveLength(c.saveLength())
          .setAllocatedBytes(allocated).setDrainedJobs(e.getValue()));
    }
    return true;
  }

  @Override
  public boolean dumpExtFile(PluginContext ctx, ProcessView process, int fd, DeviceFile file) {
    Dump dump = ctx.attachment(Dump.class);
    if (!(file instanceof NpuContext c) || dump == null || !dump.entries.containsKey(c)) {
      return false;
    }
    dump.entries.get(c).setFd(fd);
    return true;
  }

  @Override
  public void dumpDevicesLate(PluginContext ctx) {
    Dump dump = ctx.attachment(Dump.class);
    if (dump != null) {
      ctx.images().writeEntries(DEVICES, dump.pid,
          dump.entries.values().stream().map(NpuDeviceEntry.Builder::build).toList());
    }
  }

  @Override
  public void fini(PluginContext ctx, boolean ok) {
    Dump dump = ctx.attachment(Dump.class);
    if (dump == null || ok && !ctx.leaveRunning()) {
      return; // a restore cleans up by closing the process's files; a dumped process dies
    }
    RuntimeException first = null;
    for (NpuContext c : dump.drained.keySet()) {
      try {
        if (c.state() == NpuContext.State.CHECKPOINTED) {
          c.restoreInPlace();
        }
        c.unlock();
      } catch (RuntimeException e) {
        if (first == null) {
          first = e;
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  @Override
  public List<DevicePair> mapDevices(PluginContext ctx, Topology target) {
    List<Long> pids = ctx.images().entryIds(DEVICES);
    if (pids.isEmpty()) {
      return List.of();
    }
    long pid = pids.getFirst();
    List<NpuDeviceEntry> entries = ctx.images().readEntries(DEVICES, pid,
        NpuDeviceEntry.parser());
    List<DevicePair> pairs = NpuMapper.map(NpuMapper.imageNpus(entries), target,
        ctx.mappingPolicy());
    Map<Integer, Integer> targets = new LinkedHashMap<>();
    for (DevicePair p : pairs) {
      targets.put(p.imageId(), p.targetId());
    }
    ctx.attach(new Restore(targets, entries, pid, new ArrayList<>()));
    return pairs;
  }

  @Override
  public DeviceFile restoreExtFile(PluginContext ctx, ProcessView process, int fd, String path) {
    Restore restore = ctx.attachment(Restore.class);
    if (restore == null || restore.pid() != process.pid()) {
      return null;
    }
    NpuDeviceEntry entry = restore.entries().stream().filter(e -> e.getFd() == fd).findFirst()
        .orElseThrow(() -> new CorruptImageException("npu-devices-" + process.pid() + ".img",
            "no entry for fd " + fd + " (" + path + ")"));
    NpuDriver driver = driver(ctx);
    if (driver == null) {
      throw AccrException.incompatible("npu: node %s has no npus", ctx.node().name());
    }
    Integer target = restore.targets().get(entry.getDevice().getNpuId());
    if (target == null) {
      throw new CorruptImageException("npu-devices-" + process.pid() + ".img",
          "fd " + fd + " names npu " + entry.getDevice().getNpuId() + ", which was not mapped");
    }
    NpuContext c = driver.reopen(process, driver.npu(target));
    try {
      c.checkSaveArea(entry.getSaveAddress(), entry.getSaveLength(), entry.getAllocatedBytes());
    } catch (RuntimeException e) {
      c.close(); // not yet the process's file: nothing else would
      throw e;
    }
    restore.reopened().add(new RestoredContext(c, entry));
    return c;
  }

  @Override
  public boolean resumeDevicesLate(PluginContext ctx, ProcessView process) {
    Restore restore = ctx.attachment(Restore.class);
    if (restore == null || restore.pid() != process.pid()) {
      return false;
    }
    for (RestoredContext r : restore.reopened()) {
      r.context().restore(r.context().npu(), r.entry().getSaveAddress(),
          r.entry().getSaveLength(), r.entry().getAllocatedBytes());
    }
    for (RestoredContext r : restore.reopened()) {
      r.context().unlock();
    }
    return true;
  }
}
