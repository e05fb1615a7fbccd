package dev.accr.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.GatheringByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Where the files of an image set being written go: a local directory, or another node's image
 * store over the node transport. Dump code writes through a sink and never names a path, so
 * that the same code fills a local set or streams one to another node.
 */
public interface ImageSink {
  /**
   * Creates the file {@code name} of the set, which must not exist yet, for writing from the
   * start. Closing the channel ends the file; {@link #finish} ends it durably.
   */
  GatheringByteChannel create(String name) throws IOException;

  /** Ends a file created by {@link #create}: forced to storage where that applies, closed. */
  default void finish(GatheringByteChannel file) throws IOException {
    if (file instanceof FileChannel ch) {
      ch.force(true);
    }
    file.close();
  }

  /** Writes the whole file {@code name} and ends it. */
  default void writeFile(String name, byte[] bytes) throws IOException {
    GatheringByteChannel ch = create(name);
    try {
      ByteBuffer b = ByteBuffer.wrap(bytes);
      while (b.hasRemaining()) {
        ch.write(b);
      }
      finish(ch);
    } finally {
      ch.close();
    }
  }

  /** Files created as new files in {@code dir}. */
  static ImageSink directory(Path dir) {
    return name -> {
      FaultInjection.step("create:" + name);
      return FileChannel.open(dir.resolve(name), StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE);
    };
  }
}
