package dev.accr.plugin;

import dev.accr.api.MappingPolicy;
import dev.accr.api.NodeContext;
import dev.accr.image.CheckpointId;
import dev.accr.image.ImageSink;
import dev.accr.image.Compression;
import dev.accr.image.ProgressListener;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * What plugins see of one operation besides its stage: the node, the image set's directory and
 * id, how bulk files are written, the user's plugin options ({@code plugin.option -> value}),
 * whether a dumped process runs on, the device mapping asked for, where progress goes, whether
 * the operation was cancelled, and the parent set of an incremental dump.
 */
public record SessionSetup(NodeContext node, Path dir, CheckpointId id, Compression compression,
    int parallelism, Map<String, String> options, boolean leaveRunning, MappingPolicy policy,
    ProgressListener progress, BooleanSupplier cancelled, Path parentDir,
    CheckpointId parentId, ImageSink sink) {
  public SessionSetup {
    options = Map.copyOf(options);
  }

  /** The set in {@code dir} on {@code node}: no compression, one thread, no options. */
  public static SessionSetup of(NodeContext node, Path dir, CheckpointId id) {
    return new SessionSetup(node, dir, id, Compression.NONE, 1, Map.of(), false,
        MappingPolicy.STRICT, ProgressListener.NONE, () -> false, null, null, null);
  }

  public SessionSetup withCompression(Compression c) {
    return new SessionSetup(node, dir, id, c, parallelism, options, leaveRunning, policy,
        progress, cancelled, parentDir, parentId, sink);
  }

  public SessionSetup withParallelism(int n) {
    return new SessionSetup(node, dir, id, compression, n, options, leaveRunning, policy,
        progress, cancelled, parentDir, parentId, sink);
  }

  public SessionSetup withOptions(Map<String, String> o) {
    return new SessionSetup(node, dir, id, compression, parallelism, o, leaveRunning, policy,
        progress, cancelled, parentDir, parentId, sink);
  }

  public SessionSetup withLeaveRunning(boolean leave) {
    return new SessionSetup(node, dir, id, compression, parallelism, options, leave, policy,
        progress, cancelled, parentDir, parentId, sink);
  }

  public SessionSetup withPolicy(MappingPolicy p) {
    return new SessionSetup(node, dir, id, compression, parallelism, options, leaveRunning, p,
        progress, cancelled, parentDir, parentId, sink);
  }

  /** Asked by bulk I/O and by plugins ({@code PluginContext.cancelled()}) whether to give up. */
  public SessionSetup withCancelled(BooleanSupplier c) {
    return new SessionSetup(node, dir, id, compression, parallelism, options, leaveRunning,
        policy, progress, c, parentDir, parentId, sink);
  }

  /** An incremental dump: plugins see the set in {@code dir} as the parent (API 5). */
  public SessionSetup withParent(Path dir, CheckpointId parentId) {
    return new SessionSetup(node, this.dir, id, compression, parallelism, options, leaveRunning,
        policy, progress, cancelled, dir, parentId, sink);
  }

  /** Plugins write their files into {@code s} (another node's store) rather than into dir. */
  public SessionSetup withSink(ImageSink s) {
    return new SessionSetup(node, dir, id, compression, parallelism, options, leaveRunning,
        policy, progress, cancelled, parentDir, parentId, s);
  }

  /** Where plugins write their files: the sink given, else the directory. */
  public ImageSink writeSink() {
    return sink != null ? sink : ImageSink.directory(dir);
  }

  public SessionSetup withProgress(ProgressListener p) {
    return new SessionSetup(node, dir, id, compression, parallelism, options, leaveRunning,
        policy, p, cancelled, parentDir, parentId, sink);
  }
}
