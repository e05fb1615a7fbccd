package dev.accr.plugin;

import dev.accr.api.AccrPlugin;
import dev.accr.api.MappingPolicy;
import dev.accr.api.NodeContext;
import dev.accr.api.PluginContext;
import dev.accr.api.PluginImages;
import dev.accr.image.CheckpointId;
import dev.accr.image.Compression;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One dump or restore as plugins see it: the stage, node, image set, options, and each
 * plugin's context (with its attachment). Records which plugins were used.
 */
public final class Operation implements AutoCloseable {
  /** Receives progress of a long phase. */
  @FunctionalInterface
  public interface Progress {
    void progress(String phase, long done, long total);
  }

  private final AccrPlugin.Stage stage;
  private final NodeContext node;
  private final Path dir;
  private final CheckpointId id;
  private final Compression compression;
  private final int parallelism;
  private final Map<String, String> options;
  private final boolean leaveRunning;
  private final MappingPolicy policy;
  private final Progress progress;
  private final Map<String, Context> contexts = new ConcurrentHashMap<>();
  private final Set<String> used = new TreeSet<>();

  private Operation(AccrPlugin.Stage stage, NodeContext node, Path dir, CheckpointId id,
      Compression compression, int parallelism, Map<String, String> options, boolean leaveRunning,
      MappingPolicy policy, Progress progress) {
    this.stage = stage;
    this.node = node;
    this.dir = dir;
    this.id = id;
    this.compression = compression;
    this.parallelism = parallelism;
    this.options = Map.copyOf(options);
    this.leaveRunning = leaveRunning;
    this.policy = policy;
    this.progress = progress;
  }

  /** A dump writing into {@code dir} (the set's temporary directory). */
  public static Operation dump(NodeContext node, Path dir, CheckpointId id, Compression compression,
      int parallelism, Map<String, String> options, boolean leaveRunning, Progress progress) {
    return new Operation(AccrPlugin.Stage.DUMP, node, dir, id, compression, parallelism, options,
        leaveRunning, MappingPolicy.STRICT, progress);
  }

  /** A restore reading the set in {@code dir}, mapping its devices as {@code policy} asks. */
  public static Operation restore(NodeContext node, Path dir, CheckpointId id, int parallelism,
      Map<String, String> options, MappingPolicy policy, Progress progress) {
    return new Operation(AccrPlugin.Stage.RESTORE, node, dir, id, Compression.NONE, parallelism,
        options, false, policy, progress);
  }

  /** A dry run of the device mapping of the set in {@code dir} onto {@code node}. */
  public static Operation map(NodeContext node, Path dir, CheckpointId id,
      Map<String, String> options, MappingPolicy policy) {
    return new Operation(AccrPlugin.Stage.MAP, node, dir, id, Compression.NONE, 1, options, false,
        policy, (phase, done, total) -> {});
  }

  /** The context plugin {@code p} gets in this operation. */
  PluginContext contextOf(AccrPlugin p) {
    return contexts.computeIfAbsent(p.name(), name -> new Context(name));
  }

  synchronized void markUsed(String plugin) {
    used.add(plugin);
  }

  /** Plugins that claimed something or wrote images, in name order. */
  public synchronized Set<String> used() {
    return new TreeSet<>(used);
  }

  /** Abandons bulk files left open (a failed dump). */
  @Override
  public void close() {
    for (Context c : contexts.values()) {
      c.images.abandonOpen();
    }
  }

  private final class Context implements PluginContext {
    private final String plugin;
    private final SetImages images;
    private volatile Object attachment;

    Context(String plugin) {
      this.plugin = plugin;
      this.images = new SetImages(plugin, stage != AccrPlugin.Stage.DUMP, dir, id,
          compression, parallelism, () -> markUsed(plugin));
    }

    @Override
    public AccrPlugin.Stage stage() {
      return stage;
    }

    @Override
    public NodeContext node() {
      return node;
    }

    @Override
    public PluginImages images() {
      return images;
    }

    @Override
    public String option(String name, String fallback) {
      return options.getOrDefault(plugin + "." + name, fallback);
    }

    @Override
    public MappingPolicy mappingPolicy() {
      return policy;
    }

    @Override
    public boolean leaveRunning() {
      return leaveRunning;
    }

    @Override
    public void progress(String phase, long done, long total) {
      progress.progress(plugin + " " + phase, done, total);
    }

    @Override
    public void attach(Object state) {
      attachment = state;
    }

    @Override
    public <T> T attachment(Class<T> type) {
      Object a = attachment;
      return type.isInstance(a) ? type.cast(a) : null;
    }
  }
}
