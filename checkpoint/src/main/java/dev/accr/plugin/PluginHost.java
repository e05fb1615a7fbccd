package dev.accr.plugin;

import dev.accr.api.AccrException;
import dev.accr.api.AccrPlugin;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The installed checkpoint plugins, in name order, and the start of every operation that
 * involves them: {@link #begin} checks the user's plugin options and returns the session whose
 * hooks the dumper, the restorer and the mapping dry run call.
 */
public final class PluginHost {
  private final Map<String, AccrPlugin> plugins;

  private PluginHost(Map<String, AccrPlugin> plugins) {
    this.plugins = plugins;
  }

  /**
   * The given plugins (a registry's); one built for a newer API, or a name given twice, is
   * refused.
   */
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

  /** The plugins in name order. */
  public Collection<AccrPlugin> plugins() {
    return plugins.values();
  }

  /** The plugin called {@code name}, or null. */
  public AccrPlugin plugin(String name) {
    return plugins.get(name);
  }

  /** Fails with exit code 4 unless every named plugin is installed. */
  public void require(List<String> names, String imageSet) {
    for (String name : names) {
      if (!plugins.containsKey(name)) {
        throw AccrException.incompatible("plugin '%s' is needed to restore %s but is not installed"
            + " (installed: %s)", name, imageSet, namesOrNone());
      }
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
   * Starts an operation: checks every plugin option of {@code setup} against the options the
   * plugins declare, then (except in a {@link AccrPlugin.Stage#MAP} dry run) runs {@code init}
   * on every plugin. If an {@code init} fails, every plugin gets {@code fini(ok=false)}.
   *
   * @throws AccrException with exit code 2 for an option of an unknown plugin, an option the
   *     plugin does not declare, or a value outside its range
   */
  public PluginSession begin(AccrPlugin.Stage stage, SessionSetup setup) {
    PluginOptionCheck.check(plugins, setup.options());
    PluginSession session = new PluginSession(this, stage, setup);
    session.init();
    return session;
  }

  String namesOrNone() {
    return plugins.isEmpty() ? "none" : String.join(", ", plugins.keySet());
  }
}
