package dev.accr.plugin;

import dev.accr.api.AccrException;
import dev.accr.api.AccrPlugin;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * The installed checkpoint plugins, found through {@link ServiceLoader}, and the chain that
 * runs their hooks in name order.
 */
public final class PluginHost {
  private final Map<String, AccrPlugin> plugins;

  private PluginHost(Map<String, AccrPlugin> plugins) {
    this.plugins = plugins;
  }

  /** The plugins visible to {@code loader}; one built for a newer API is refused. */
  public static PluginHost load(ClassLoader loader) {
    Map<String, AccrPlugin> found = new TreeMap<>();
    for (AccrPlugin p : ServiceLoader.load(AccrPlugin.class, loader)) {
      if (p.apiVersion() > AccrPlugin.API_VERSION) {
        throw AccrException.incompatible("plugin %s needs plugin API %d; this accr has %d",
            p.name(), p.apiVersion(), AccrPlugin.API_VERSION);
      }
      found.putIfAbsent(p.name(), p);
    }
    return new PluginHost(found);
  }

  /** The plugins on accr's own class path. */
  public static PluginHost installed() {
    return load(PluginHost.class.getClassLoader());
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

  /** Names of the plugins whose images a dump wrote; recorded in the inventory. */
  public List<String> usedNames() {
    return new ArrayList<>(); // no plugin writes images yet: none has device hooks
  }

  public void init(AccrPlugin.Stage stage) {
    for (AccrPlugin p : plugins.values()) {
      p.init(stage);
    }
  }

  public void fini(AccrPlugin.Stage stage, boolean ok) {
    for (AccrPlugin p : plugins.values()) {
      p.fini(stage, ok);
    }
  }
}
