package dev.accr.engine;

import dev.accr.image.ProgressListener;
import dev.accr.image.BulkFileReader;
import dev.accr.image.EntryImageCodec;
import dev.accr.image.ImageKind;
import dev.accr.proto.ImageFileRef;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Verifies an image set without restoring it: every checksum and every cross-reference,
 * plugins' files included (their entries' framing and their bulk data chunk by chunk; what the
 * entries mean is checked by the plugin when it restores).
 */
public final class ImageChecker {
  private ImageChecker() {}

  /** What a check covered. */
  public record Report(int files, int processes, long chunks, long bytesVerified) {}

  /** Throws the first problem found (exit code 3 for corruption); returns what was checked. */
  public static Report check(Path dir, int threads) throws IOException {
    ImageSet set = ImageSet.read(dir);
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
    return new Report(set.inventory().getFilesCount() + 1, set.processes().size(), chunks, bytes);
  }
}
