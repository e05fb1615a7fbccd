package dev.accr.image;

import dev.accr.api.CorruptImageException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
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

  /**
   * Reads a whole file that must be a regular file of at most {@code max} bytes; anything
   * else (a FIFO, a device, a directory) is refused before a byte is read, so that reading
   * cannot block or exhaust memory.
   */
  static byte[] readBounded(Path file, long max) throws IOException {
    String name = displayName(file);
    BasicFileAttributes attributes = regularFile(file);
    if (attributes.size() > max) {
      throw new CorruptImageException(name, "file size: actual=" + attributes.size()
          + " expected<=" + max);
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ,
        LinkOption.NOFOLLOW_LINKS)) {
      long size = ch.size();
      if (size > max) {
        throw new CorruptImageException(name, "file size: actual=" + size + " expected<=" + max);
      }
      ByteBuffer buffer = ByteBuffer.allocate((int) size);
      readFully(ch, buffer, 0, name);
      if (ch.read(ByteBuffer.allocate(1), size) > 0) {
        throw new CorruptImageException(name, "file grew while being read");
      }
      return buffer.array();
    }
  }

  /**
   * The attributes of {@code file}, which must be a regular file; a missing file, a symbolic
   * link (it could lead anywhere, past a remote caller's image root) or anything else that is
   * not a regular file is a corrupt set.
   */
  static BasicFileAttributes regularFile(Path file) throws IOException {
    BasicFileAttributes attributes;
    try {
      attributes = Files.readAttributes(file, BasicFileAttributes.class,
          LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      throw new CorruptImageException(displayName(file), "missing file");
    }
    if (attributes.isSymbolicLink()) {
      throw new CorruptImageException(displayName(file), "a symbolic link, not a regular file");
    }
    if (!attributes.isRegularFile()) {
      throw new CorruptImageException(displayName(file), "not a regular file");
    }
    return attributes;
  }

  /** Opens a regular file for reading, refusing FIFOs, devices and directories. */
  static FileChannel openRegular(Path file) throws IOException {
    regularFile(file);
    try {
      return FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
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
