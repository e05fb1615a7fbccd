package dev.accr.plugin;

import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import dev.accr.api.AccrException;
import dev.accr.api.BulkReader;
import dev.accr.api.BulkWriter;
import dev.accr.api.CorruptImageException;
import dev.accr.api.PluginImages;
import dev.accr.image.BulkFileReader;
import dev.accr.image.BulkFileWriter;
import dev.accr.image.ByteCounts;
import dev.accr.image.CheckpointId;
import dev.accr.image.Compression;
import dev.accr.image.EntryImage;
import dev.accr.image.EntryImageCodec;
import dev.accr.image.ImageKind;
import dev.accr.image.ImageSink;
import dev.accr.kernel.BufferBudget;
import dev.accr.proto.InventoryEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/** The image set as one plugin reads or writes it (see {@link PluginImages}). */
public final class SetImages implements PluginImages {
  private final String plugin;
  private final boolean reading;
  private final Path dir;
  private final CheckpointId id;
  private final Compression compression;
  private final int parallelism;
  private final Runnable onWrite;
  private final BufferBudget budget;
  private final BooleanSupplier cancelled;
  private final List<BulkFileWriter> open = new ArrayList<>();
  private ImageSink sink;
  private Path parentDir;
  private CheckpointId parentId;
  private ByteCounts counts = new ByteCounts();
  private final java.util.function.Supplier<RemoteBulk> remote;

  SetImages(String plugin, boolean reading, Path dir, CheckpointId id, Compression compression,
      int parallelism, Runnable onWrite, BufferBudget budget, BooleanSupplier cancelled) {
    this(plugin, reading, dir, id, compression, parallelism, onWrite, budget, cancelled,
        () -> null);
  }

  SetImages(String plugin, boolean reading, Path dir, CheckpointId id, Compression compression,
      int parallelism, Runnable onWrite, BufferBudget budget, BooleanSupplier cancelled,
      java.util.function.Supplier<RemoteBulk> remote) {
    this.remote = remote;
    this.plugin = plugin;
    this.reading = reading;
    this.dir = dir;
    this.id = id;
    this.compression = compression;
    this.parallelism = parallelism;
    this.onWrite = onWrite;
    this.budget = budget;
    this.cancelled = cancelled;
  }

  /**
   * The set in {@code dir} as {@code plugin} reads it, outside any operation ({@code accr
   * inspect}, {@code accr diff}): read-only, every file checked against {@code id} as it is
   * read.
   */
  public static PluginImages reader(String plugin, Path dir, CheckpointId id) {
    return new SetImages(plugin, true, dir, id, Compression.NONE, 1, () -> {},
        BufferBudget.unlimited(), () -> false);
  }

  /**
   * A new set as {@code plugin} writes it outside a dump ({@code accr compact}): its files go
   * into {@code sink}, framed with {@code id}; the plugin closes the bulk writers it creates.
   */
  public static PluginImages writer(String plugin, ImageSink sink, CheckpointId id,
      Compression compression, int parallelism) {
    return new SetImages(plugin, false, null, id, compression, parallelism, () -> {},
        BufferBudget.unlimited(), () -> false).writingTo(sink);
  }

  /** Writes go into {@code s} (the set's sink) rather than into the directory; returns this. */
  SetImages writingTo(ImageSink s) {
    this.sink = s;
    return this;
  }

  private ImageSink sink() {
    return sink != null ? sink : ImageSink.directory(dir);
  }

  @Override
  public void writeEntries(String what, long n, List<? extends MessageLite> entries) {
    String file = name(ImageKind.PLUGIN, what, n, false);
    try {
      EntryImageCodec.write(sink(), file, ImageKind.PLUGIN, id, entries);
    } catch (IOException e) {
      throw AccrException.failed("dump: writing %s: %s", file, e.getMessage());
    }
    onWrite.run();
  }

  @Override
  public <T extends MessageLite> List<T> readEntries(String what, long n, Parser<T> parser) {
    Path file = dir.resolve(name(ImageKind.PLUGIN, what, n, true));
    if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
      throw new CorruptImageException(file.toString(), "missing file"); // symlinks: refused when read
    }
    try {
      EntryImage image = EntryImageCodec.read(file, ImageKind.PLUGIN, id);
      return image.parseAll(parser);
    } catch (IOException e) {
      throw new CorruptImageException(file.toString(), "unreadable: " + e.getMessage());
    }
  }

  @Override
  public List<Long> entryIds(String what) {
    String prefix = name(ImageKind.PLUGIN, what, 0, true);
    prefix = prefix.substring(0, prefix.length() - "0.img".length());
    List<Long> ids = new ArrayList<>();
    try (var files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        String n = f.getFileName().toString();
        if (n.startsWith(prefix) && n.endsWith(".img")
            && n.substring(prefix.length(), n.length() - 4).matches("[0-9]{1,18}")) {
          ids.add(Long.parseLong(n.substring(prefix.length(), n.length() - 4)));
        }
      }
    } catch (IOException e) {
      throw new CorruptImageException(dir.toString(), "unreadable: " + e.getMessage());
    }
    ids.sort(null);
    return ids;
  }

  @Override
  public boolean hasEntries(String what, long n) {
    return Files.isRegularFile(dir.resolve(name(ImageKind.PLUGIN, what, n, true)),
        LinkOption.NOFOLLOW_LINKS);
  }

  @Override
  public synchronized BulkWriter createBulk(String what, long n) {
    name(ImageKind.PLUGIN_PAGES, what, n, false);
    try {
      BulkFileWriter w = BulkFileWriter.create(sink(), plugin, what, n, id, compression, parallelism,
          budget).cancelledBy(cancelled).countingInto(counts);
      open.add(w);
      onWrite.run();
      return w;
    } catch (IOException e) {
      throw AccrException.failed("dump: creating %s bulk file %s-%d: %s", plugin, what, n,
          e.getMessage());
    }
  }

  @Override
  public BulkReader openBulk(String what, long n) {
    name(ImageKind.PLUGIN_PAGES, what, n, true);
    RemoteBulk r = remote.get();
    BulkReader served = r == null ? null : r.open(plugin, what, n);
    if (served != null) {
      return served;
    }
    try {
      return BulkFileReader.open(dir, plugin, what, n, id).budgeted(budget)
          .cancelledBy(cancelled).countingInto(counts);
    } catch (IOException e) {
      throw new CorruptImageException(dir.resolve(
          ImageKind.PLUGIN_PAGEMAP.pluginFileName(plugin, what, n)).toString(),
          "unreadable: " + e.getMessage());
    }
  }

  @Override
  public int parallelism() {
    return parallelism;
  }

  /** Names the parent of the set being written (an incremental dump); null for none. */
  SetImages withParent(Path dir, CheckpointId id) {
    this.parentDir = dir;
    this.parentId = id;
    return this;
  }

  /**
   * The parent given to a dump, or, when reading, the one this set's inventory names (the
   * host verified the chain before any plugin reads it).
   */
  @Override
  public PluginImages parent() {
    if (parentDir != null) {
      return parentReader(parentDir, parentId);
    }
    if (!reading) {
      return null;
    }
    Path inventory = dir.resolve(ImageKind.INVENTORY.fileName());
    if (!Files.isRegularFile(inventory)) {
      return null;
    }
    try {
      InventoryEntry inv = EntryImageCodec.read(inventory, ImageKind.INVENTORY, id)
          .single(InventoryEntry.parser());
      if (inv.getParentPath().isEmpty()) {
        return null;
      }
      return parentReader(dir.toAbsolutePath().resolve(inv.getParentPath()).normalize(),
          CheckpointId.of(inv.getParentId().toByteArray()));
    } catch (IOException | IllegalArgumentException e) {
      throw new CorruptImageException(inventory.toString(), "unreadable: " + e.getMessage());
    }
  }

  /** A parent's files, read within this operation's budget and counted with its own. */
  private SetImages parentReader(Path parent, CheckpointId parentCheckpoint) {
    SetImages r = new SetImages(plugin, true, parent, parentCheckpoint, Compression.NONE, 1,
        () -> {}, budget, cancelled);
    r.counts = counts;
    return r;
  }

  @Override
  public String checkpointId() {
    return id.toString();
  }

  /** What this plugin's bulk files moved so far. */
  ByteCounts counts() {
    return counts;
  }

  synchronized void abandonOpen() {
    for (BulkFileWriter w : open) {
      w.abandon();
    }
    open.clear();
  }

  private String name(ImageKind kind, String what, long n, boolean forReading) {
    if (forReading != reading) {
      throw new IllegalStateException("plugin " + plugin + ": the image set is "
          + (reading ? "read-only during restore" : "write-only during dump"));
    }
    if (what == null || !what.matches("[a-z0-9]+(-[a-z0-9]+)*") || n < 0) {
      throw new IllegalArgumentException("plugin " + plugin + ": bad image name '" + what + "' "
          + n + " (lowercase letters, digits and dashes; a non-negative id)");
    }
    return kind.pluginFileName(plugin, what, n);
  }
}
