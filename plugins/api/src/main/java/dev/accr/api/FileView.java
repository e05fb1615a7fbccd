package dev.accr.api;

/**
 * A process's file-descriptor table. Files are regular files of the real file system; a
 * descriptor has a position and open flags, as with {@code open(2)}.
 */
public interface FileView {
  int O_READ = 1;
  int O_WRITE = 2;
  int O_APPEND = 4;
  int O_CREATE = 8;

  /** Opens a file and returns the lowest free descriptor. */
  int open(String path, int flags);

  /** Writes at the descriptor's position and advances it. */
  void write(int fd, byte[] data);

  /** The descriptor's current position. */
  long position(int fd);
}
