package dev.accr.engine;

import dev.accr.api.AccrException;
import dev.accr.api.MappingPolicy;
import java.util.Map;

/**
 * How to restore: reader threads, options for plugins ({@code plugin.option -> value}), and
 * the device mapping the user asked for ({@code --device-map}, {@code --relax}).
 */
public record RestoreOptions(int threads, Map<String, String> pluginOptions,
    MappingPolicy mapping) {
  public RestoreOptions {
    pluginOptions = Map.copyOf(pluginOptions);
    if (threads < 1 || threads > 64) {
      throw AccrException.usage("threads: %d is out of range [1, 64]", threads);
    }
  }

  /** Defaults: one thread per core, no plugin options, strict mapping. */
  public static RestoreOptions defaults() {
    return new RestoreOptions(DumpOptions.defaultThreads(), Map.of(), MappingPolicy.STRICT);
  }

  public RestoreOptions withThreads(int n) {
    return new RestoreOptions(n, pluginOptions, mapping);
  }

  public RestoreOptions withPluginOptions(Map<String, String> options) {
    return new RestoreOptions(threads, options, mapping);
  }

  public RestoreOptions withMapping(MappingPolicy policy) {
    return new RestoreOptions(threads, pluginOptions, policy);
  }
}
