package dev.accr.kernel;

import dev.accr.api.AccrException;
import dev.accr.api.DeviceDriver;
import dev.accr.api.DeviceFile;
import dev.accr.api.FileView;
import dev.accr.api.ProcessView;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/** A process's file descriptors: regular files and device files. */
public final class FileTable implements FileView, AutoCloseable {
  private final TreeMap<Integer, OpenFile> fds = new TreeMap<>();
  private final TreeMap<Integer, DeviceFile> devices = new TreeMap<>();
  private final Path cwd;
  private final ProcessView owner;
  private final Function<String, DeviceDriver> drivers;

  FileTable(Path cwd, ProcessView owner, Function<String, DeviceDriver> drivers) {
    this.cwd = cwd;
    this.owner = owner;
    this.drivers = drivers;
  }

  @Override
  public int openDevice(String path) {
    DeviceDriver driver = drivers.apply(path);
    if (driver == null) {
      throw AccrException.notFound("open: no such device: %s", path);
    }
    DeviceFile file = driver.open(owner, path); // outside the lock: drivers may call back
    synchronized (this) {
      int fd = lowestFree();
      devices.put(fd, file);
      return fd;
    }
  }

  /** Installs a device file a plugin reopened at its descriptor (restore). */
  public synchronized void installDevice(int fd, DeviceFile file) {
    if (fds.containsKey(fd) || devices.containsKey(fd)) {
      file.close();
      throw AccrException.failed("fd %d is already open", fd);
    }
    devices.put(fd, file);
  }

  @Override
  public synchronized <T extends DeviceFile> T device(int fd, Class<T> type) {
    DeviceFile file = devices.get(fd);
    if (file == null) {
      throw AccrException.failed("fd %d is not an open device file", fd);
    }
    if (!type.isInstance(file)) {
      throw AccrException.failed("fd %d is %s, not a %s", fd, file.path(), type.getSimpleName());
    }
    return type.cast(file);
  }

  /** The device files in descriptor order. */
  public synchronized Map<Integer, DeviceFile> devices() {
    return new TreeMap<>(devices);
  }

  @Override
  public synchronized int open(String path, int flags) {
    Path resolved = cwd.resolve(path).toAbsolutePath().normalize();
    OpenFile file = openChannel(resolved, flags, true, 0);
    int fd = lowestFree();
    fds.put(fd, file);
    return fd;
  }

  /** Reopens an existing file at a descriptor and position (restore); never creates it. */
  public synchronized void install(int fd, Path path, int flags, long position) {
    if (fds.containsKey(fd) || devices.containsKey(fd)) {
      throw AccrException.failed("fd %d is already open", fd);
    }
    fds.put(fd, openChannel(path, flags, false, position));
  }

  private static OpenFile openChannel(Path path, int flags, boolean mayCreate, long position) {
    Set<StandardOpenOption> options = EnumSet.noneOf(StandardOpenOption.class);
    if ((flags & O_READ) != 0) {
      options.add(StandardOpenOption.READ);
    }
    if ((flags & O_WRITE) != 0) {
      options.add(StandardOpenOption.WRITE);
    }
    if (mayCreate && (flags & O_CREATE) != 0) {
      options.add(StandardOpenOption.CREATE);
    }
    try {
      return new OpenFile(path, flags, FileChannel.open(path, options), position);
    } catch (NoSuchFileException e) {
      throw AccrException.notFound("open: no such file: %s", path);
    } catch (IOException | UnsupportedOperationException e) {
      throw AccrException.failed("open: %s: %s", path, e.getMessage());
    }
  }

  private int lowestFree() {
    int fd = 0;
    while (fds.containsKey(fd) || devices.containsKey(fd)) {
      fd++;
    }
    return fd;
  }

  @Override
  public synchronized void write(int fd, byte[] data) {
    OpenFile file = get(fd);
    if ((file.flags() & O_WRITE) == 0) { // as write(2): EBADF, even for no bytes
      throw AccrException.failed("write: bad file descriptor %d (not open for writing)", fd);
    }
    try {
      ByteBuffer buffer = ByteBuffer.wrap(data);
      long at = file.position();
      while (buffer.hasRemaining()) {
        at += file.channel().write(buffer, at);
      }
      file.advance(data.length);
    } catch (IOException e) {
      throw AccrException.failed("write: %s: %s", file.path(), e.getMessage());
    }
  }

  @Override
  public synchronized long position(int fd) {
    return get(fd).position();
  }

  /** The open file at {@code fd}. */
  public synchronized OpenFile get(int fd) {
    OpenFile file = fds.get(fd);
    if (file == null) {
      throw AccrException.failed("bad file descriptor %d", fd);
    }
    return file;
  }

  /** A snapshot of the table in descriptor order. */
  public synchronized Map<Integer, OpenFile> snapshot() {
    return new TreeMap<>(fds);
  }

  @Override
  public synchronized void close() {
    // Device files first: their drivers release device state (and stop device work that may
    // still reach the process's memory) before the memory goes.
    for (DeviceFile file : devices.values()) {
      file.close();
    }
    devices.clear();
    for (OpenFile file : fds.values()) {
      try {
        file.close();
      } catch (IOException ignored) {
        // Closing a descriptor of a process that is going away: nothing to report.
      }
    }
    fds.clear();
  }
}
