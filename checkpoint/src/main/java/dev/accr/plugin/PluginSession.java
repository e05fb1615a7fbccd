package dev.accr.plugin;

import dev.accr.api.AccrException;
import dev.accr.api.AccrPlugin;
import dev.accr.api.LazyRestoreHost;
import dev.accr.api.DeviceFile;
import dev.accr.api.DeviceMemoryServer;
import dev.accr.api.DeviceMapping;
import dev.accr.api.DevicePair;
import dev.accr.api.MappingPolicy;
import dev.accr.api.PluginContext;
import dev.accr.api.ProcessView;
import dev.accr.image.ByteCounts;
import dev.accr.proto.Topology;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One dump, restore or mapping dry run as the plugins see it (from {@link PluginHost#begin}):
 * runs their hooks in name order with each plugin's context of this operation. Hooks that
 * answer for one thing (a file, a mapping) stop at the first plugin that claims it; the others
 * run on every plugin. Plugins that claim anything or write images are "used" and recorded in
 * the inventory. {@link #close} runs {@code fini} on every plugin, with {@code ok} true only
 * after {@link #succeeded}, and abandons bulk files left open.
 */
public final class PluginSession implements AutoCloseable {
  private final PluginHost host;
  private final AccrPlugin.Stage stage;
  private final SessionSetup setup;
  private final Map<String, SessionContext> contexts = new ConcurrentHashMap<>();
  private final Set<String> used = new TreeSet<>();
  private boolean ok;
  private boolean closed;
  /** The lazy restore in progress, for plugins that restore lazily; null: eager. */
  private volatile LazyRestoreHost lazy;
  /** Post-copy dump: plugins that can serve their device memory later write none. */
  private volatile boolean memoryServedLater;
  /** Bulk files read from another node (post-copy restore), or null. */
  private volatile RemoteBulk remoteBulk;
  /** Device memory each plugin loaded ahead of this restore (by plugin name), or null. */
  private volatile java.util.function.Function<String, dev.accr.api.DeviceStage> deviceStages;

  PluginSession(PluginHost host, AccrPlugin.Stage stage, SessionSetup setup) {
    this.host = host;
    this.stage = stage;
    this.setup = setup;
  }

  /** Runs {@code init} on every plugin; if one fails, every plugin gets {@code fini(false)}. */
  void init() {
    if (stage == AccrPlugin.Stage.MAP) {
      return; // a dry run calls mapDevices only
    }
    try {
      for (AccrPlugin p : host.plugins()) {
        long t = System.nanoTime();
        p.init(contextOf(p));
        PluginSteps.log(p, "init(" + stage + ")", t, false);
      }
    } catch (RuntimeException e) {
      try {
        close();
      } catch (RuntimeException finiFailed) {
        e.addSuppressed(finiFailed);
      }
      throw e;
    }
  }

  public AccrPlugin.Stage stage() {
    return stage;
  }

  /** Marks the operation as successful: {@link #close} then gives {@code fini(ok=true)}. */
  public synchronized void succeeded() {
    ok = true;
  }

  /** Plugins that claimed something or wrote images, in name order. */
  public synchronized Set<String> used() {
    return new TreeSet<>(used);
  }

  synchronized void markUsed(String plugin) {
    used.add(plugin);
  }

  /**
   * Maps the devices of the image onto {@code target} with every plugin, as the setup's
   * mapping policy asks; fails with exit code 2 for a relaxed check or forced id that no
   * plugin or device knows.
   */
  public List<DevicePair> mapDevices(Topology target) {
    MappingPolicy policy = setup.policy();
    Set<String> known = host.relaxableChecks();
    for (String name : policy.relaxed()) {
      if (!known.contains(name)) {
        throw AccrException.usage("--relax: unknown check '%s' (known: %s)", name,
            known.isEmpty() ? "none" : String.join(", ", known));
      }
    }
    List<DevicePair> pairs = new ArrayList<>();
    for (AccrPlugin p : host.plugins()) {
      long t = System.nanoTime();
      List<DevicePair> mine = p.mapDevices(contextOf(p), target);
      PluginSteps.log(p, "mapDevices: " + mine.size() + " devices", t, !mine.isEmpty());
      if (!mine.isEmpty()) {
        markUsed(p.name());
        pairs.addAll(mine);
      }
    }
    for (int imageId : policy.forced().keySet()) {
      if (pairs.stream().noneMatch(d -> d.imageId() == imageId)) {
        throw AccrException.usage("--device-map: the image has no device 0x%x", imageId);
      }
    }
    return pairs;
  }

  public void pauseDevices(ProcessView process) {
    for (AccrPlugin p : host.plugins()) {
      long t = System.nanoTime();
      boolean claimed = p.pauseDevices(contextOf(p), process);
      PluginSteps.log(p, "pauseDevices", t, claimed);
      if (claimed) {
        markUsed(p.name());
      }
    }
  }

  /** The pre-dump of device memory, by the plugins that track writes (API 5). */
  public void preDumpDevices(ProcessView process) {
    for (AccrPlugin p : host.plugins()) {
      if (p.tracksWrites() && p.preDumpDevices(contextOf(p), process)) {
        markUsed(p.name());
      }
    }
  }

  /** The second half of a pre-dump, the process running again (API 6). */
  public void preDumpDevicesRunning(ProcessView process) {
    for (AccrPlugin p : host.plugins()) {
      if (p.tracksWrites() && used().contains(p.name())) {
        p.preDumpDevicesRunning(contextOf(p), process);
      }
    }
  }

  /** Plugins used by this session that cannot track writes: they stored device memory in full. */
  public synchronized java.util.List<String> usedWithoutTracking() {
    return host.plugins().stream().filter(p -> used.contains(p.name()) && !p.tracksWrites())
        .map(AccrPlugin::name).toList();
  }

  public void checkpointDevices(ProcessView process) {
    for (AccrPlugin p : host.plugins()) {
      long t = System.nanoTime();
      boolean claimed = p.checkpointDevices(contextOf(p), process);
      PluginSteps.log(p, "checkpointDevices", t, claimed);
      if (claimed) {
        markUsed(p.name());
      }
    }
  }

  /** The plugin that dumped device file {@code fd}; fails if none claims it. */
  public String dumpExtFile(ProcessView process, int fd, DeviceFile file) {
    for (AccrPlugin p : host.plugins()) {
      long t = System.nanoTime();
      boolean claimed = p.dumpExtFile(contextOf(p), process, fd, file);
      PluginSteps.log(p, "dumpExtFile fd " + fd + " (" + file.path() + ")", t, claimed);
      if (claimed) {
        markUsed(p.name());
        return p.name();
      }
    }
    throw AccrException.failed("dump: no plugin handles fd %d of process %d (%s); installed"
        + " plugins: %s", fd, process.pid(), file.path(), host.namesOrNone());
  }

  /** Fails the dump unless a plugin takes care of the device mapping's contents. */
  public void handleDeviceVma(ProcessView process, DeviceMapping vma) {
    for (AccrPlugin p : host.plugins()) {
      if (p.handleDeviceVma(contextOf(p), process, vma)) {
        markUsed(p.name());
        return;
      }
    }
    throw AccrException.failed("dump: no plugin handles the device mapping %x-%x of %s in"
        + " process %d", vma.start(), vma.start() + vma.length(), vma.path(), process.pid());
  }

  public void dumpDevicesLate() {
    for (AccrPlugin p : host.plugins()) {
      long t = System.nanoTime();
      p.dumpDevicesLate(contextOf(p));
      PluginSteps.log(p, "dumpDevicesLate", t, false);
    }
  }

  /** Dump: the whole tree is frozen; {@code tree} lists it, the root first. */
  public void treeFrozen(List<? extends ProcessView> tree) {
    List<ProcessView> view = List.copyOf(tree);
    for (AccrPlugin p : host.plugins()) {
      long t = System.nanoTime();
      p.treeFrozen(contextOf(p), view);
      PluginSteps.log(p, "treeFrozen: " + view.size() + " processes", t, false);
    }
  }

  /** Restore: every process of the tree is recreated, none runs yet. */
  public void treeRestored(List<? extends ProcessView> tree) {
    List<ProcessView> view = List.copyOf(tree);
    for (AccrPlugin p : host.plugins()) {
      long t = System.nanoTime();
      p.treeRestored(contextOf(p), view);
      PluginSteps.log(p, "treeRestored: " + view.size() + " processes", t, false);
    }
  }

  public void postForking(ProcessView process) {
    for (AccrPlugin p : host.plugins()) {
      long t = System.nanoTime();
      p.postForking(contextOf(p), process);
      PluginSteps.log(p, "postForking", t, false);
    }
  }

  /** Where a device mapping goes on this node; fails if no plugin knows it. */
  public DeviceMapping updateVmaMap(ProcessView process, DeviceMapping vma) {
    for (AccrPlugin p : host.plugins()) {
      DeviceMapping moved = p.updateVmaMap(contextOf(p), process, vma);
      if (moved != null) {
        return moved;
      }
    }
    throw AccrException.incompatible("restore: no plugin maps the device mapping %x-%x of %s",
        vma.start(), vma.start() + vma.length(), vma.path());
  }

  /** Reopens a device file with the plugin that dumped it. */
  public DeviceFile restoreExtFile(String plugin, ProcessView process, int fd, String path) {
    AccrPlugin p = host.plugin(plugin);
    if (p == null) {
      throw AccrException.incompatible("restore: plugin '%s' (for fd %d, %s) is not installed",
          plugin, fd, path);
    }
    long t = System.nanoTime();
    DeviceFile file = p.restoreExtFile(contextOf(p), process, fd, path);
    PluginSteps.log(p, "restoreExtFile fd " + fd + " (" + path + ")", t, file != null);
    if (file == null) {
      throw AccrException.incompatible("restore: plugin %s cannot reopen fd %d (%s)", plugin,
          fd, path);
    }
    return file;
  }

  /**
   * Makes this restore lazy: plugins that {@link AccrPlugin#restoresLazily} get {@code host}
   * through {@link PluginContext#lazyRestore}; the others restore eagerly.
   */
  public void restoreLazily(LazyRestoreHost host) {
    this.lazy = host;
  }

  /**
   * Makes this dump one of a post-copy migration: plugins that {@link
   * AccrPlugin#servesDeviceMemory} write no bulk files (see {@link #serveDeviceMemory}).
   */
  public void serveMemoryLater() {
    this.memoryServedLater = true;
  }

  /**
   * After the devices of the stopped {@code process} were checkpointed: what serves each
   * plugin's device memory (plugin name to server), for plugins that serve it.
   */
  public Map<String, DeviceMemoryServer> serveDeviceMemory(ProcessView process) {
    Map<String, DeviceMemoryServer> servers = new TreeMap<>();
    for (AccrPlugin p : host.plugins()) {
      if (p.servesDeviceMemory()) {
        DeviceMemoryServer s = p.serveDeviceMemory(contextOf(p), process);
        if (s != null) {
          servers.put(p.name(), s);
        }
      }
    }
    return servers;
  }

  /** Reads the bulk files {@code remote} has from it rather than from the set (post-copy). */
  public void readBulkFrom(RemoteBulk remote) {
    this.remoteBulk = remote;
  }

  /**
   * Restore: each plugin finds the device memory it loaded ahead of it (a pre-copy migration's
   * rounds) in {@code stages}, by plugin name, through {@code PluginContext.deviceStage()}.
   */
  public void stagedDeviceMemory(
      java.util.function.Function<String, dev.accr.api.DeviceStage> stages) {
    this.deviceStages = stages;
  }

  /** The device memory plugin {@code plugin} loaded ahead of this restore, or null. */
  dev.accr.api.DeviceStage deviceStage(String plugin) {
    var stages = deviceStages;
    return stages == null ? null : stages.apply(plugin);
  }

  /** Whether the installed plugin {@code plugin} restores its device memory lazily. */
  public boolean restoresLazily(String plugin) {
    AccrPlugin p = host.plugin(plugin);
    return p != null && p.restoresLazily();
  }

  public void resumeDevicesLate(ProcessView process) {
    for (AccrPlugin p : host.plugins()) {
      long t = System.nanoTime();
      p.resumeDevicesLate(contextOf(p), process);
      PluginSteps.log(p, "resumeDevicesLate", t, false);
    }
  }

  /**
   * Runs {@code fini} on every plugin (not in a dry run), even when one fails, then abandons
   * bulk files left open; the first failure is rethrown after all have run. Only the first
   * call does anything.
   */
  @Override
  public void close() {
    boolean finishedOk;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      finishedOk = ok;
    }
    RuntimeException first = null;
    try {
      if (stage != AccrPlugin.Stage.MAP) {
        for (AccrPlugin p : host.plugins()) {
          try {
            long t = System.nanoTime();
            p.fini(contextOf(p), finishedOk);
            PluginSteps.log(p, "fini(" + stage + ", ok=" + finishedOk + ")", t, false);
          } catch (RuntimeException e) {
            if (first == null) {
              first = e;
            } else {
              first.addSuppressed(e);
            }
          }
        }
      }
    } finally {
      for (SessionContext c : contexts.values()) {
        c.setImages().abandonOpen();
      }
    }
    if (first != null) {
      throw first;
    }
  }

  /** Per plugin (in name order), what its bulk files moved; plugins that moved none left out. */
  public Map<String, ByteCounts> bulkCounts() {
    Map<String, ByteCounts> out = new TreeMap<>();
    contexts.forEach((name, c) -> {
      if (!c.setImages().counts().isEmpty()) {
        out.put(name, c.setImages().counts());
      }
    });
    return out;
  }

  private PluginContext contextOf(AccrPlugin p) {
    return contexts.computeIfAbsent(p.name(), name -> new SessionContext(this, p));
  }

  /** The setup this session was begun with. */
  SessionSetup setup() {
    return setup;
  }

  /** Whether this is a post-copy dump ({@link #serveMemoryLater}). */
  boolean memoryServedLater() {
    return memoryServedLater;
  }

  /** The lazy restore in progress, or null. */
  LazyRestoreHost lazy() {
    return lazy;
  }

  /** The bulk files read from another node, or null. */
  RemoteBulk remoteBulk() {
    return remoteBulk;
  }
}
