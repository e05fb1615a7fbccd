package dev.accr.engine;

import java.io.IOException;
import java.nio.file.Path;

/** Verifies an image set without restoring it: every checksum and every cross-reference. */
public final class ImageChecker {
  private ImageChecker() {}

  /** What a check covered. */
  public record Report(int files, int processes, long chunks, long bytesVerified) {}

  /** Throws the first problem found (exit code 3 for corruption); returns what was checked. */
  public static Report check(Path dir, int threads) throws IOException {
    ImageSet set = ImageSet.read(dir);
    long bytes = new PageLoader(set, threads, ProgressListener.NONE).load(PageLoader.VERIFY_ONLY);
    long chunks = set.processes().values().stream().mapToLong(p -> p.chunks().size()).sum();
    return new Report(set.inventory().getFilesCount() + 1, set.processes().size(), chunks, bytes);
  }
}
