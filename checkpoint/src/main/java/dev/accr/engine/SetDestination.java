package dev.accr.engine;

import dev.accr.image.ImageSetWriter;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Where a dump puts the set it writes: a local directory (the default), or another node's
 * image store, the files streamed there as they are produced.
 */
public interface SetDestination {
  /** Sets written into local directories, renamed into place when complete. */
  SetDestination LOCAL = ImageSetWriter::create;

  /** Opens the writer of the set named {@code dir}. */
  ImageSetWriter open(Path dir) throws IOException;

  /**
   * The parent {@code dir} of an incremental dump when this destination knows it without
   * reading it locally (it lives where the sets go), or null: read it from the local disk.
   */
  default ImageSet parent(Path dir) {
    return null;
  }
}
