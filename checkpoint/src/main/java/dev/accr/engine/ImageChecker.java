package dev.accr.engine;

import dev.accr.api.AccrPlugin;
import dev.accr.api.CorruptImageException;
import dev.accr.api.Untrusted;
import dev.accr.image.ProgressListener;
import dev.accr.plugin.PluginHost;
import dev.accr.plugin.SetImages;
import dev.accr.image.BulkFileReader;
import dev.accr.image.EntryImageCodec;
import dev.accr.image.ImageKind;
import dev.accr.proto.ImageFileRef;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Verifies an image set without restoring it: every checksum and every cross-reference, the
 * checks restore makes of the core's entries before it creates anything ({@link ImageSet}),
 * and plugins' files: their framing, their bulk data chunk by chunk, and what their entries
 * mean, through each plugin's own {@link AccrPlugin#checkImages} (the checks its restore
 * makes). Every plugin the set names must be installed, as for a restore.
 */
public final class ImageChecker {
  private ImageChecker() {}

  /** What a check covered. */
  public record Report(int files, int processes, long chunks, long bytesVerified) {}

  /**
   * Throws the first problem found (exit code 3 for corruption, 4 for a plugin the set needs
   * that {@code plugins} lacks); returns what was checked.
   */
  public static Report check(Path dir, int threads, PluginHost plugins) throws IOException {
    Report total = new Report(0, 0, 0, 0);
    // An incremental set is checked with every parent it needs.
    for (ImageSet set : ImageChain.read(dir).links()) {
      Report r = checkSet(set, threads, plugins);
      total = new Report(total.files() + r.files(), Math.max(total.processes(), r.processes()),
          total.chunks() + r.chunks(), total.bytesVerified() + r.bytesVerified());
    }
    return total;
  }

  private static Report checkSet(ImageSet set, int threads, PluginHost plugins)
      throws IOException {
    Path dir = set.dir();
    plugins.require(set.inventory().getPluginsList(), dir.toString());
    checkPluginFileOwners(set);
    long bytes = new PageLoader(set, threads, ProgressListener.NONE).load(PageLoader.VERIFY_ONLY);
    long chunks = set.processes().values().stream().mapToLong(p -> p.chunks().size()).sum();
    for (ImageFileRef ref : set.inventory().getFilesList()) {
      ImageKind kind = ImageKind.ofFileName(ref.getName());
      if (kind == ImageKind.PLUGIN) {
        EntryImageCodec.read(dir.resolve(ref.getName()), ImageKind.PLUGIN, set.id());
      } else if (kind == ImageKind.PLUGIN_PAGEMAP) {
        ImageKind.PluginFileName n = ImageKind.parsePluginFileName(ref.getName());
        BulkFileReader reader = BulkFileReader.open(dir, n.plugin(), n.what(), n.id(), set.id());
        reader.forEach(threads, (key, data) -> { });
        chunks += reader.chunks().size();
        bytes += reader.chunks().stream().mapToLong(c -> c.length()).sum();
      }
    }
    for (String name : set.inventory().getPluginsList()) {
      plugins.plugin(name).checkImages(SetImages.reader(name, dir, set.id()));
    }
    return new Report(set.inventory().getFilesCount() + 1, set.processes().size(), chunks, bytes);
  }

  /** Every plugin file belongs to a plugin the inventory names. */
  private static void checkPluginFileOwners(ImageSet set) {
    for (ImageFileRef ref : set.inventory().getFilesList()) {
      ImageKind.PluginFileName n = ImageKind.parsePluginFileName(ref.getName());
      if (n != null && !set.inventory().getPluginsList().contains(n.plugin())) {
        throw new CorruptImageException(set.dir().resolve(ref.getName()).toString(),
            "a file of plugin " + Untrusted.quote(n.plugin()) + ", which inventory.img does"
                + " not list");
      }
    }
  }
}
