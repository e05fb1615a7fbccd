package dev.accr.engine;

import dev.accr.api.AccrException;
import dev.accr.image.Compression;
import java.util.Map;

/**
 * How to dump: compression of bulk data, worker threads (one pages file each), pages per
 * chunk, whether the process keeps running afterwards, and options for plugins
 * ({@code plugin.option -> value}).
 */
public record DumpOptions(Compression compression, int threads, int chunkPages,
    boolean leaveRunning, Map<String, String> pluginOptions, boolean leaveStopped) {
  public static final int DEFAULT_CHUNK_PAGES = 256; // 1 MiB chunks

  public DumpOptions {
    pluginOptions = Map.copyOf(pluginOptions);
    if (threads < 1 || threads > 64) {
      throw AccrException.usage("threads: %d is out of range [1, 64]", threads);
    }
    if (leaveRunning && leaveStopped) {
      throw AccrException.usage("leave running and leave stopped: choose one");
    }
    if (chunkPages < 1 || chunkPages > 4096) {
      throw AccrException.usage("chunk pages: %d is out of range [1, 4096]", chunkPages);
    }
  }

  /** Defaults: no compression, one thread per core, 1 MiB chunks, kill after dump. */
  public static DumpOptions defaults() {
    return new DumpOptions(Compression.NONE, defaultThreads(), DEFAULT_CHUNK_PAGES, false, Map.of(),
        false);
  }

  public static int defaultThreads() {
    return Math.max(1, Math.min(8, Runtime.getRuntime().availableProcessors()));
  }

  public DumpOptions withCompression(Compression c) {
    return new DumpOptions(c, threads, chunkPages, leaveRunning, pluginOptions, leaveStopped);
  }

  public DumpOptions withThreads(int n) {
    return new DumpOptions(compression, n, chunkPages, leaveRunning, pluginOptions,
        leaveStopped);
  }

  public DumpOptions withLeaveRunning(boolean leave) {
    return new DumpOptions(compression, threads, chunkPages, leave, pluginOptions, leaveStopped);
  }

  public DumpOptions withChunkPages(int pages) {
    return new DumpOptions(compression, threads, pages, leaveRunning, pluginOptions,
        leaveStopped);
  }

  public DumpOptions withPluginOptions(Map<String, String> options) {
    return new DumpOptions(compression, threads, chunkPages, leaveRunning, options,
        leaveStopped);
  }

  /** Whether the process stays frozen after a successful dump (CRIU's --leave-stopped). */
  public DumpOptions withLeaveStopped(boolean stopped) {
    return new DumpOptions(compression, threads, chunkPages, leaveRunning, pluginOptions,
        stopped);
  }
}
