package dev.accr.kernel;

import dev.accr.api.AccrException;
import dev.accr.api.DeviceDriver;
import dev.accr.api.DeviceFile;
import dev.accr.api.FileView;
import dev.accr.api.MemoryView;
import dev.accr.api.ProcessView;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.IntFunction;

/**
 * A process's file descriptors, each referring to an open file description that other
 * descriptors (of this process or others) may share: regular files, device files, pipe ends,
 * socket ends and memfds.
 */
public final class FileTable implements FileView, AutoCloseable {
  private final TreeMap<Integer, FileDescription> fds = new TreeMap<>();
  private final Path cwd;
  private final ProcessView owner;
  private final Function<String, DeviceDriver> drivers;
  private final KernelIds ids;
  private final NodeMemory accounting;
  /** The file table of a live process of the node, by pid (pidfd_getfd). */
  private final IntFunction<FileTable> peers;
  private final StepWaits waits;

  FileTable(Path cwd, ProcessView owner, Function<String, DeviceDriver> drivers, KernelIds ids,
      NodeMemory accounting, IntFunction<FileTable> peers, StepWaits waits) {
    this.cwd = cwd;
    this.owner = owner;
    this.drivers = drivers;
    this.ids = ids;
    this.accounting = accounting;
    this.peers = peers;
    this.waits = waits;
  }

  @Override
  public int openDevice(String path) {
    DeviceDriver driver = drivers.apply(path);
    if (driver == null) {
      throw AccrException.notFound("open: no such device: %s", path);
    }
    DeviceFile file = driver.open(owner, path); // outside the lock: drivers may call back
    return addDevice(file);
  }

  @Override
  public synchronized int addDevice(DeviceFile file) {
    return add(new DeviceDescription(ids.next(), file));
  }

  /** Installs a device file a plugin reopened at its descriptor (restore). */
  public synchronized void installDevice(int fd, DeviceFile file) {
    if (fds.containsKey(fd)) {
      file.close();
      throw AccrException.failed("fd %d is already open", fd);
    }
    fds.put(fd, new DeviceDescription(ids.next(), file));
  }

  @Override
  public synchronized <T extends DeviceFile> T device(int fd, Class<T> type) {
    if (!(fds.get(fd) instanceof DeviceDescription d)) {
      throw AccrException.failed("fd %d is not an open device file", fd);
    }
    DeviceFile file = d.file();
    if (!type.isInstance(file)) {
      throw AccrException.failed("fd %d is %s, not a %s", fd, file.path(), type.getSimpleName());
    }
    return type.cast(file);
  }

  /** The device files in descriptor order. */
  public synchronized Map<Integer, DeviceFile> devices() {
    Map<Integer, DeviceFile> out = new TreeMap<>();
    fds.forEach((fd, d) -> {
      if (d instanceof DeviceDescription dd) {
        out.put(fd, dd.file());
      }
    });
    return out;
  }

  @Override
  public synchronized int open(String path, int flags) {
    Path resolved = cwd.resolve(path).toAbsolutePath().normalize();
    return add(openChannel(resolved, flags, true, 0));
  }

  /** Reopens an existing file at a descriptor and position (restore); never creates it. */
  public synchronized void install(int fd, Path path, int flags, long position) {
    if (fds.containsKey(fd)) {
      throw AccrException.failed("fd %d is already open", fd);
    }
    fds.put(fd, openChannel(path, flags, false, position));
  }

  /**
   * Puts another descriptor of an open description at {@code fd} (restore re-shares a
   * description that an earlier process of the tree opened, as fork or pidfd_getfd did).
   */
  public synchronized void installShared(int fd, FileDescription description) {
    if (fds.containsKey(fd)) {
      throw AccrException.failed("fd %d is already open", fd);
    }
    description.retain();
    fds.put(fd, description);
  }

  /**
   * Puts a description created for this process ({@link KernelObjects}) at {@code fd}, taking
   * over the reference it was created with.
   */
  public synchronized void installOwned(int fd, FileDescription description) {
    if (fds.containsKey(fd)) {
      throw AccrException.failed("fd %d is already open", fd);
    }
    fds.put(fd, description);
  }

  private OpenFile openChannel(Path path, int flags, boolean mayCreate, long position) {
    return openChannel(ids, path, flags, mayCreate, position);
  }

  static OpenFile openChannel(KernelIds ids, Path path, int flags, boolean mayCreate,
      long position) {
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
      return new OpenFile(ids.next(), path, flags, FileChannel.open(path, options), position);
    } catch (NoSuchFileException e) {
      throw AccrException.notFound("open: no such file: %s", path);
    } catch (IOException | UnsupportedOperationException e) {
      throw AccrException.failed("open: %s: %s", path, e.getMessage());
    }
  }

  private int add(FileDescription description) {
    int fd = lowestFree();
    fds.put(fd, description);
    return fd;
  }

  private int lowestFree() {
    int fd = 0;
    while (fds.containsKey(fd)) {
      fd++;
    }
    return fd;
  }

  @Override
  public synchronized int[] pipe() {
    Pipe pipe = new Pipe(ids.next(), PIPE_CAPACITY);
    int read = add(new PipeEnd(ids.next(), pipe, true));
    int write = add(new PipeEnd(ids.next(), pipe, false));
    return new int[] {read, write};
  }

  @Override
  public synchronized int[] socketPair() {
    Pipe ab = new Pipe(ids.next(), PIPE_CAPACITY);
    Pipe ba = new Pipe(ids.next(), PIPE_CAPACITY);
    int a = add(new SocketEnd(ids.next(), ba, ab));
    int b = add(new SocketEnd(ids.next(), ab, ba));
    return new int[] {a, b};
  }

  @Override
  public synchronized int memfdCreate(String name, long size) {
    if (size <= 0 || size % MemoryView.PAGE_SIZE != 0 || size > AddressSpace.MAX_MAPPED_BYTES) {
      throw AccrException.failed("memfd_create: size %d is not a positive whole number of pages"
          + " up to %d GiB", size, AddressSpace.MAX_MAPPED_BYTES >> 30);
    }
    return add(new MemfdFile(ids.next(), new SharedMemory(ids.next(), name, size, accounting)));
  }

  /** The shared memory of the memfd open at {@code fd}, or null if it is not a memfd. */
  synchronized SharedMemory memfd(int fd) {
    return fds.get(fd) instanceof MemfdFile m ? m.memory() : null;
  }

  @Override
  public void write(int fd, byte[] data) {
    FileDescription d = describe(fd);
    if (d instanceof OpenFile file) {
      writeFile(fd, file, data);
    } else {
      pipeForWrite(fd, d).write(data, 0, data.length, true, waits, name(fd, d));
    }
  }

  @Override
  public int writeSome(int fd, byte[] buffer, int offset, int length) {
    FileDescription d = describe(fd);
    if (d instanceof OpenFile file) {
      byte[] data = java.util.Arrays.copyOfRange(buffer, offset, offset + length);
      writeFile(fd, file, data);
      return length;
    }
    return pipeForWrite(fd, d).write(buffer, offset, length, false, waits, name(fd, d));
  }

  @Override
  public int read(int fd, byte[] buffer, int offset, int length) {
    FileDescription d = describe(fd);
    return switch (d) {
      case OpenFile file -> readFile(fd, file, buffer, offset, length);
      case PipeEnd end when end.isReadEnd() -> end.pipe().read(buffer, offset, length, waits);
      case SocketEnd end -> end.in().read(buffer, offset, length, waits);
      default -> throw AccrException.failed("read: bad file descriptor %d (%s is not open for"
          + " reading)", fd, d.describe());
    };
  }

  private static Pipe pipeForWrite(int fd, FileDescription d) {
    return switch (d) {
      case PipeEnd end when !end.isReadEnd() -> end.pipe();
      case SocketEnd end -> end.out();
      default -> throw AccrException.failed("write: bad file descriptor %d (%s is not open for"
          + " writing)", fd, d.describe());
    };
  }

  private String name(int fd, FileDescription d) {
    return "fd " + fd + " of " + owner.pid() + ", " + d.describe();
  }

  private static void writeFile(int fd, OpenFile file, byte[] data) {
    if ((file.flags() & O_WRITE) == 0) { // as write(2): EBADF, even for no bytes
      throw AccrException.failed("write: bad file descriptor %d (not open for writing)", fd);
    }
    synchronized (file) { // a description shared by several processes: one position
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
  }

  private static int readFile(int fd, OpenFile file, byte[] buffer, int offset, int length) {
    if ((file.flags() & O_READ) == 0) {
      throw AccrException.failed("read: bad file descriptor %d (not open for reading)", fd);
    }
    synchronized (file) {
      try {
        int n = file.channel().read(ByteBuffer.wrap(buffer, offset, length), file.position());
        if (n <= 0) {
          return 0;
        }
        file.advance(n);
        return n;
      } catch (IOException e) {
        throw AccrException.failed("read: %s: %s", file.path(), e.getMessage());
      }
    }
  }

  @Override
  public long position(int fd) {
    return get(fd).position();
  }

  /** The open regular file at {@code fd}. */
  public synchronized OpenFile get(int fd) {
    FileDescription d = fds.get(fd);
    if (!(d instanceof OpenFile file)) {
      throw AccrException.failed("bad file descriptor %d%s", fd,
          d == null ? "" : " (" + d.describe() + " is not a regular file)");
    }
    return file;
  }

  /** The open file description at {@code fd}. */
  public synchronized FileDescription describe(int fd) {
    FileDescription d = fds.get(fd);
    if (d == null) {
      throw AccrException.failed("bad file descriptor %d", fd);
    }
    return d;
  }

  @Override
  public void close(int fd) {
    FileDescription d;
    synchronized (this) {
      d = fds.remove(fd);
    }
    if (d == null) {
      throw AccrException.failed("close: bad file descriptor %d", fd);
    }
    d.release(); // outside the lock: a last close may reach a driver
  }

  @Override
  public int getFd(int pid, int fd) {
    FileTable peer = peers.apply(pid);
    FileDescription d;
    synchronized (peer) {
      d = peer.fds.get(fd);
      if (d == null) {
        throw AccrException.failed("pidfd_getfd: process %d has no descriptor %d", pid, fd);
      }
      d.retain();
    }
    synchronized (this) {
      return add(d);
    }
  }

  /** A snapshot of the regular files in descriptor order. */
  public synchronized Map<Integer, OpenFile> snapshot() {
    Map<Integer, OpenFile> out = new TreeMap<>();
    fds.forEach((fd, d) -> {
      if (d instanceof OpenFile f) {
        out.put(fd, f);
      }
    });
    return out;
  }

  /** Every descriptor with its open file description, in descriptor order. */
  public synchronized Map<Integer, FileDescription> descriptions() {
    return new TreeMap<>(fds);
  }

  /** Gives the empty table {@code child} the descriptors fork passes on (all but devices). */
  synchronized void forkInto(FileTable child) {
    fds.forEach((fd, d) -> {
      if (d.inheritedByFork()) {
        d.retain();
        synchronized (child) {
          child.fds.put(fd, d);
        }
      }
    });
  }

  @Override
  public void close() {
    List<FileDescription> closing = new ArrayList<>();
    synchronized (this) {
      // Device files first: their drivers release device state (and stop device work that may
      // still reach the process's memory) before the memory goes.
      fds.values().stream().filter(d -> d instanceof DeviceDescription).forEach(closing::add);
      fds.values().stream().filter(d -> !(d instanceof DeviceDescription)).forEach(closing::add);
      fds.clear();
    }
    for (FileDescription d : closing) {
      d.release();
    }
  }
}
