package dev.accr.plugin;

import dev.accr.api.AccrException;
import dev.accr.api.AccrPlugin;
import dev.accr.api.DeviceFile;
import dev.accr.api.DeviceMapping;
import dev.accr.api.DevicePair;
import dev.accr.api.MappingPolicy;
import dev.accr.api.ProcessView;
import dev.accr.proto.Topology;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The installed checkpoint plugins ({@link Extensions}) and the chain that runs their hooks in
 * name order. Hooks that answer for one thing (a file, a mapping) stop at the first plugin
 * that claims it; the others run on every plugin. Plugins that claim anything or write images
 * are "used" and recorded in the inventory.
 */
public final class PluginHost {
  private final Map<String, AccrPlugin> plugins;

  private PluginHost(Map<String, AccrPlugin> plugins) {
    this.plugins = plugins;
  }

  /** The given plugins; one built for a newer API, or a name given twice, is refused. */
  public static PluginHost of(Collection<AccrPlugin> candidates) {
    Map<String, AccrPlugin> found = new TreeMap<>();
    for (AccrPlugin p : candidates) {
      if (p.apiVersion() > AccrPlugin.API_VERSION) {
        throw AccrException.incompatible("plugin %s needs plugin API %d; this accr has %d",
            p.name(), p.apiVersion(), AccrPlugin.API_VERSION);
      }
      if (p.name() == null || !p.name().matches("[a-z][a-z0-9]{0,31}")) {
        throw AccrException.incompatible("plugin %s: name '%s' is not lowercase letters and"
            + " digits", p.getClass().getName(), p.name());
      }
      AccrPlugin other = found.putIfAbsent(p.name(), p);
      if (other != null && other.getClass() != p.getClass()) {
        throw AccrException.incompatible("two plugins are named %s: %s and %s", p.name(),
            other.getClass().getName(), p.getClass().getName());
      }
    }
    return new PluginHost(found);
  }

  /** The plugins on accr's class path and in the plugin directories. */
  public static PluginHost installed() {
    return of(Extensions.load(AccrPlugin.class));
  }

  public Collection<AccrPlugin> plugins() {
    return plugins.values();
  }

  /** Fails with exit code 4 unless every named plugin is installed. */
  public void require(List<String> names, String imageSet) {
    for (String name : names) {
      if (!plugins.containsKey(name)) {
        throw AccrException.incompatible("plugin '%s' is needed to restore %s but is not installed"
            + " (installed: %s)", name, imageSet,
            plugins.isEmpty() ? "none" : String.join(", ", plugins.keySet()));
      }
    }
  }

  public void init(Operation op) {
    for (AccrPlugin p : plugins.values()) {
      p.init(op.contextOf(p));
    }
  }

  /**
   * Runs {@code fini} on every plugin, even when one fails; the first failure is rethrown
   * after all have run.
   */
  public void fini(Operation op, boolean ok) {
    RuntimeException first = null;
    for (AccrPlugin p : plugins.values()) {
      try {
        p.fini(op.contextOf(p), ok);
      } catch (RuntimeException e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  /** The check names that {@code --relax} accepts: those of every installed plugin. */
  public Set<String> relaxableChecks() {
    Set<String> names = new TreeSet<>();
    for (AccrPlugin p : plugins.values()) {
      names.addAll(p.relaxableChecks());
    }
    return names;
  }

  /**
   * Maps the devices of the image onto {@code target} with every plugin; fails with exit code
   * 2 for a relaxed check or forced id that no plugin or device knows.
   */
  public List<DevicePair> mapDevices(Operation op, MappingPolicy policy, Topology target) {
    Set<String> known = relaxableChecks();
    for (String name : policy.relaxed()) {
      if (!known.contains(name)) {
        throw AccrException.usage("--relax: unknown check '%s' (known: %s)", name,
            known.isEmpty() ? "none" : String.join(", ", known));
      }
    }
    List<DevicePair> pairs = new ArrayList<>();
    for (AccrPlugin p : plugins.values()) {
      List<DevicePair> mine = p.mapDevices(op.contextOf(p), target);
      if (!mine.isEmpty()) {
        op.markUsed(p.name());
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

  public void pauseDevices(Operation op, ProcessView process) {
    for (AccrPlugin p : plugins.values()) {
      if (p.pauseDevices(op.contextOf(p), process)) {
        op.markUsed(p.name());
      }
    }
  }

  public void checkpointDevices(Operation op, ProcessView process) {
    for (AccrPlugin p : plugins.values()) {
      if (p.checkpointDevices(op.contextOf(p), process)) {
        op.markUsed(p.name());
      }
    }
  }

  /** The plugin that dumped device file {@code fd}; fails if none claims it. */
  public String dumpExtFile(Operation op, ProcessView process, int fd, DeviceFile file) {
    for (AccrPlugin p : plugins.values()) {
      if (p.dumpExtFile(op.contextOf(p), process, fd, file)) {
        op.markUsed(p.name());
        return p.name();
      }
    }
    throw AccrException.failed("dump: no plugin handles fd %d of process %d (%s); installed"
        + " plugins: %s", fd, process.pid(), file.path(), namesOrNone());
  }

  /** Fails the dump unless a plugin takes care of the device mapping's contents. */
  public void handleDeviceVma(Operation op, ProcessView process, DeviceMapping vma) {
    for (AccrPlugin p : plugins.values()) {
      if (p.handleDeviceVma(op.contextOf(p), process, vma)) {
        op.markUsed(p.name());
        return;
      }
    }
    throw AccrException.failed("dump: no plugin handles the device mapping %x-%x of %s in"
        + " process %d", vma.start(), vma.start() + vma.length(), vma.path(), process.pid());
  }

  public void dumpDevicesLate(Operation op) {
    for (AccrPlugin p : plugins.values()) {
      p.dumpDevicesLate(op.contextOf(p));
    }
  }

  public void postForking(Operation op, ProcessView process) {
    for (AccrPlugin p : plugins.values()) {
      p.postForking(op.contextOf(p), process);
    }
  }

  /** Where a device mapping goes on this node; fails if no plugin knows it. */
  public DeviceMapping updateVmaMap(Operation op, ProcessView process, DeviceMapping vma) {
    for (AccrPlugin p : plugins.values()) {
      DeviceMapping moved = p.updateVmaMap(op.contextOf(p), process, vma);
      if (moved != null) {
        return moved;
      }
    }
    throw AccrException.incompatible("restore: no plugin maps the device mapping %x-%x of %s",
        vma.start(), vma.start() + vma.length(), vma.path());
  }

  /** Reopens a device file with the plugin that dumped it. */
  public DeviceFile restoreExtFile(Operation op, String plugin, ProcessView process, int fd,
      String path) {
    AccrPlugin p = plugins.get(plugin);
    if (p == null) {
      throw AccrException.incompatible("restore: plugin '%s' (for fd %d, %s) is not installed",
          plugin, fd, path);
    }
    DeviceFile file = p.restoreExtFile(op.contextOf(p), process, fd, path);
    if (file == null) {
      throw AccrException.incompatible("restore: plugin %s cannot reopen fd %d (%s)", plugin,
          fd, path);
    }
    return file;
  }

  public void resumeDevicesLate(Operation op, ProcessView process) {
    for (AccrPlugin p : plugins.values()) {
      p.resumeDevicesLate(op.contextOf(p), process);
    }
  }

  private String namesOrNone() {
    return plugins.isEmpty() ? "none" : String.join(", ", plugins.keySet());
  }
}
