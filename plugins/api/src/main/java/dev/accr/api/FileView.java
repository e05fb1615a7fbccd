package dev.accr.api;

/**
 * A process's file-descriptor table. Regular files are files of the real file system; a
 * descriptor has a position and open flags, as with {@code open(2)}. Device files (such as
 * {@code /dev/kfd}) are opened through the node's driver for them.
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

  /**
   * Opens a device file through the node's driver for it and returns the lowest free
   * descriptor.
   *
   * @throws AccrException with exit code 5 if no driver of the node handles {@code path}
   */
  int openDevice(String path);

  /**
   * The device file at {@code fd}, as the driver's own type (what {@code ioctl} reaches).
   *
   * @throws AccrException if {@code fd} is not open or not a device file of that type
   */
  <T extends DeviceFile> T device(int fd, Class<T> type);
}
