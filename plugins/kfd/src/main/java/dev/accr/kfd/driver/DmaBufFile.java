package dev.accr.kfd.driver;

import dev.accr.api.DeviceFile;
import java.security.MessageDigest;

/**
 * An open descriptor of a {@link DmaBuf} (one open file description: descriptors copied from
 * it share it). It keeps the buffer alive until closed. Its contents are digested through the
 * exporter's buffer object, once, not here.
 */
public final class DmaBufFile implements DeviceFile {
  /** Descriptors of dma-bufs are named {@code anon_inode:dmabuf:<id>}. */
  public static final String PATH_PREFIX = "anon_inode:dmabuf:";

  private final DmaBuf buffer;
  private boolean closed;

  DmaBufFile(DmaBuf buffer) {
    this.buffer = buffer;
    buffer.reference();
  }

  public DmaBuf buffer() {
    return buffer;
  }

  @Override
  public String path() {
    return buffer.path();
  }

  @Override
  public void digest(MessageDigest digest) {}

  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    buffer.release(null);
  }

  /** The buffer id named by a descriptor path, or -1 if it names no dma-buf. */
  public static long idOf(String path) {
    if (!path.startsWith(PATH_PREFIX)) {
      return -1;
    }
    try {
      long id = Long.parseLong(path.substring(PATH_PREFIX.length()));
      return id > 0 ? id : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
