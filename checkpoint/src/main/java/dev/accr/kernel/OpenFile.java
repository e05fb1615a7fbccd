package dev.accr.kernel;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/** An open regular file: its path, open flags, position and the real channel behind it. */
public final class OpenFile extends FileDescription implements AutoCloseable {
  private final Path path;
  private final int flags;
  private final FileChannel channel;
  private long position;

  OpenFile(long id, Path path, int flags, FileChannel channel, long position) {
    super(id);
    this.path = path;
    this.flags = flags;
    this.channel = channel;
    this.position = position;
  }

  public Path path() {
    return path;
  }

  public int flags() {
    return flags;
  }

  public synchronized long position() {
    return position;
  }

  synchronized void advance(long bytes) {
    position += bytes;
  }

  FileChannel channel() {
    return channel;
  }

  /** The file's size now. */
  public long size() throws IOException {
    return channel.size();
  }

  @Override
  void closeLast() {
    try {
      channel.close();
    } catch (IOException ignored) {
      // Closing the last descriptor of a file: nothing to report.
    }
  }

  @Override
  public String describe() {
    return path.toString();
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
