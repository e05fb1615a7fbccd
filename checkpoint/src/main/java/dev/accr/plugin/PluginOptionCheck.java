package dev.accr.plugin;

import dev.accr.api.AccrException;
import dev.accr.api.AccrPlugin;
import dev.accr.api.PluginOption;
import java.util.Map;

/**
 * Checks {@code --plugin-opt PLUGIN.NAME=VALUE} options against what the plugins declare
 * (plugin API 4) before any hook runs. Plugins built for an older API declare nothing, so
 * their options pass unchecked.
 */
final class PluginOptionCheck {
  private PluginOptionCheck() {}

  static void check(Map<String, AccrPlugin> plugins, Map<String, String> options) {
    for (var e : options.entrySet()) {
      String key = e.getKey();
      int dot = key.indexOf('.');
      if (dot < 1 || dot == key.length() - 1) {
        throw AccrException.usage("--plugin-opt %s: expected PLUGIN.NAME=VALUE", key);
      }
      String pluginName = key.substring(0, dot);
      AccrPlugin plugin = plugins.get(pluginName);
      if (plugin == null) {
        throw AccrException.usage("--plugin-opt %s: no plugin '%s' is installed (installed: %s)",
            key, pluginName, plugins.isEmpty() ? "none" : String.join(", ", plugins.keySet()));
      }
      if (plugin.apiVersion() < 4) {
        continue;
      }
      PluginOption option = declared(plugin, key.substring(dot + 1));
      if (option == null) {
        throw AccrException.usage("--plugin-opt %s: plugin %s has no option '%s' (options: %s)",
            key, pluginName, key.substring(dot + 1), optionNames(plugin));
      }
      String problem = option.check(e.getValue());
      if (problem != null) {
        throw AccrException.usage("--plugin-opt %s=%s: %s (%s takes %s)", key, e.getValue(),
            problem, key, option.range());
      }
    }
  }

  /** The option {@code name} that {@code plugin} declares, or null. */
  static PluginOption declared(AccrPlugin plugin, String name) {
    if (plugin.apiVersion() < 4) {
      return null;
    }
    for (PluginOption o : plugin.options()) {
      if (o.name().equals(name)) {
        return o;
      }
    }
    return null;
  }

  private static String optionNames(AccrPlugin plugin) {
    var names = plugin.options().stream().map(PluginOption::name).sorted().toList();
    return names.isEmpty() ? "none" : String.join(", ", names);
  }
}
