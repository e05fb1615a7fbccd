package dev.accr.api;

/**
 * A process's file-descriptor table. Regular files are files of the real file system; a
 * descriptor has a position and open flags, as with {@code open(2)}. Device files (such as
 * {@code /dev/kfd}) are opened through the node's driver for them.
 *
 * <p>Since API 6 a descriptor refers to an open file description that several descriptors,
 * in one process or several, may share (after {@link ProcessView#fork} or {@link #getFd}):
 * they share its position, and it is closed when its last descriptor is. Pipes and socket
 * pairs live in the node's kernel with the bytes in flight; {@link #read} and {@link
 * #writeSome} never block: they answer {@link #WOULD_BLOCK}, and the process sleeps after its
 * step until the pipe changes.
 */
public interface FileView {
  int O_READ = 1;
  int O_WRITE = 2;
  int O_APPEND = 4;
  int O_CREATE = 8;
  /** What {@link #read}, {@link #writeSome} and {@link ProcessView#waitChild} return instead of blocking. */
  int WOULD_BLOCK = -1;
  /** Bytes a pipe (each direction of a socket pair) holds, as Linux's default pipe size. */
  int PIPE_CAPACITY = 64 * 1024;

  /** Opens a file and returns the lowest free descriptor. */
  int open(String path, int flags);

  /**
   * Writes at the descriptor's position and advances it. On a pipe or socket (API 6) the bytes
   * go in whole or not at all: a write that does not fit fails; use {@link #writeSome}.
   *
   * @throws AccrException (exit code 1) on a pipe whose read end is closed everywhere (EPIPE)
   */
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

  /**
   * Gives the process a device file a driver created (API 6), like {@code anon_inode_getfd}:
   * how a driver hands out a dma-buf it exported. Returns the lowest free descriptor; the file
   * is closed when its last descriptor is.
   */
  default int addDevice(DeviceFile file) {
    throw Signals.unsupported("addDevice");
  }

  /**
   * Creates a pipe, like {@code pipe(2)} (API 6): returns {@code {readFd, writeFd}}, the two
   * lowest free descriptors. It holds up to {@link #PIPE_CAPACITY} bytes.
   */
  default int[] pipe() {
    throw Signals.unsupported("pipe");
  }

  /**
   * Creates a connected pair of UNIX stream sockets, like {@code socketpair(AF_UNIX,
   * SOCK_STREAM)} (API 6): returns two descriptors; what one end writes the other reads.
   */
  default int[] socketPair() {
    throw Signals.unsupported("socketPair");
  }

  /**
   * Reads up to {@code length} bytes (API 6). On a pipe or socket: the bytes read, at least
   * one; 0 at end of file (empty, and no writer is left anywhere); {@link #WOULD_BLOCK} when
   * empty while a writer remains. On a regular file: the bytes read at its position (which
   * advances), 0 at end of file.
   */
  default int read(int fd, byte[] buffer, int offset, int length) {
    throw Signals.unsupported("read");
  }

  /**
   * Writes as many of {@code length} bytes as fit (API 6): on a pipe or socket, the bytes
   * written, or {@link #WOULD_BLOCK} when it is full; on a regular file, all of them.
   *
   * @throws AccrException (exit code 1) on a pipe whose read end is closed everywhere (EPIPE)
   */
  default int writeSome(int fd, byte[] buffer, int offset, int length) {
    throw Signals.unsupported("writeSome");
  }

  /**
   * Closes a descriptor (API 6); its open file description closes with its last descriptor (the
   * last writer of a pipe gone, readers see end of file).
   *
   * @throws AccrException if {@code fd} is not open
   */
  default void close(int fd) {
    throw Signals.unsupported("close");
  }

  /**
   * Takes a copy of descriptor {@code fd} of process {@code pid} of the same node, like {@code
   * pidfd_getfd(2)} (API 6): returns the lowest free descriptor of this process, referring to
   * the same open file description (device files included: how a process gets a peer's
   * dma-buf).
   *
   * @throws AccrException with exit code 5 if no such process lives; exit code 1 if it has no
   *     such descriptor
   */
  default int getFd(int pid, int fd) {
    throw Signals.unsupported("getFd");
  }

  /**
   * Creates an anonymous shared-memory file of {@code size} bytes (a whole number of pages),
   * like {@code memfd_create} then {@code ftruncate} (API 6); map it with {@link
   * MemoryView#mapMemfd}. Its frames live while a descriptor or a mapping holds it.
   */
  default int memfdCreate(String name, long size) {
    throw Signals.unsupported("memfdCreate");
  }
}
