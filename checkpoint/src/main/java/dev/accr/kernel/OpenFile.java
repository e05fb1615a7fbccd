package dev.accr.kernel;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/** An open regular file: its path, open flags, position and the real channel behind it. */
public final class OpenFile implements AutoCloseable {
  private final Path path;
  private final int flags;
  private final FileChannel channel;
  private long position;

  OpenFile(Path path, int flags, FileChannel channel, long position) {
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

  public long position() {
    return position;
  }

  void advance(long bytes) {
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
  public void close() throws IOException {
    channel.close();
  }
}
