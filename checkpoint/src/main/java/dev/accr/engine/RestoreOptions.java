package dev.accr.engine;

import dev.accr.api.AccrException;
import dev.accr.api.MappingPolicy;
import java.util.Map;

/**
 * How to restore: reader threads, options for plugins ({@code plugin.option -> value}), the
 * device mapping the user asked for ({@code --device-map}, {@code --relax}), whether the
 * restored process runs at once or waits for its caller to step it, and whether it tracks its
 * writes from the restore on ({@code --track-mem}: a dump with the restored set as parent is
 * then incremental; without it such a dump is refused).
 */
public record RestoreOptions(int threads, Map<String, String> pluginOptions,
    MappingPolicy mapping, Start start, Lazy lazy, boolean trackMem) {
  /** Whether pages are loaded before the process runs, or on first touch. */
  public enum Lazy {
    /** Every page is loaded before the process runs. */
    OFF,
    /** On first touch and in the background; every chunk is checked before the process runs. */
    CHECKED,
    /** On first touch and in the background, each chunk checked only when loaded. */
    UNCHECKED
  }

  /** What becomes of the process once it is restored. */
  public enum Start {
    /** It runs on its own threads. */
    RUN,
    /** It is in the process table but not started: the caller steps it inline. */
    INLINE
  }

  public RestoreOptions {
    pluginOptions = Map.copyOf(pluginOptions);
    if (threads < 1 || threads > 64) {
      throw AccrException.usage("threads: %d is out of range [1, 64]", threads);
    }
  }

  /** Defaults: one thread per core, no plugin options, strict mapping, the process runs. */
  public static RestoreOptions defaults() {
    return new RestoreOptions(DumpOptions.defaultThreads(), Map.of(), MappingPolicy.STRICT,
        Start.RUN, Lazy.OFF, false);
  }

  public RestoreOptions withThreads(int n) {
    return new RestoreOptions(n, pluginOptions, mapping, start, lazy, trackMem);
  }

  public RestoreOptions withPluginOptions(Map<String, String> options) {
    return new RestoreOptions(threads, options, mapping, start, lazy, trackMem);
  }

  public RestoreOptions withMapping(MappingPolicy policy) {
    return new RestoreOptions(threads, pluginOptions, policy, start, lazy, trackMem);
  }

  public RestoreOptions withStart(Start s) {
    return new RestoreOptions(threads, pluginOptions, mapping, s, lazy, trackMem);
  }

  public RestoreOptions withLazy(Lazy l) {
    return new RestoreOptions(threads, pluginOptions, mapping, start, l, trackMem);
  }

  /** Whether the restored process tracks its writes from the restore on. */
  public RestoreOptions withTrackMem(boolean track) {
    return new RestoreOptions(threads, pluginOptions, mapping, start, lazy, track);
  }
}
