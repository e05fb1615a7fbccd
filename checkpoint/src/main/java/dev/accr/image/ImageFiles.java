package dev.accr.image;

import dev.accr.api.CorruptImageException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Small file helpers shared by the image readers and writers. */
final class ImageFiles {
  private ImageFiles() {}

  /** How a file is named in messages. */
  static String displayName(Path file) {
    return file.toString();
  }

  /** The size of a file; a missing one is a corrupt image set. */
  static long sizeOf(Path file) throws IOException {
    try {
      return Files.size(file);
    } catch (NoSuchFileException e) {
      throw new CorruptImageException(displayName(file), "missing file");
    }
  }

  /** Writes a new file and forces it to storage. */
  static void writeAndSync(Path file, byte[] bytes) throws IOException {
    FaultInjection.step("create:" + file.getFileName());
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE)) {
      ByteBuffer buffer = ByteBuffer.wrap(bytes);
      while (buffer.hasRemaining()) {
        ch.write(buffer);
      }
      FaultInjection.step("sync:" + file.getFileName());
      ch.force(true);
    }
  }

  /** Reads exactly {@code buffer.remaining()} bytes at {@code position}, or fails as truncated. */
  static void readFully(FileChannel ch, ByteBuffer buffer, long position, String file)
      throws IOException {
    long at = position;
    while (buffer.hasRemaining()) {
      int n = ch.read(buffer, at);
      if (n < 0) {
        throw new CorruptImageException(file, "truncated at offset " + at);
      }
      at += n;
    }
  }
}
