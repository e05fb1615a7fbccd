package dev.accr.kernel;

import dev.accr.api.DeviceFile;
import dev.accr.api.FileView;
import java.nio.file.Path;

/**
 * Creates a node's shared kernel objects outside any program (restore re-creates each once,
 * then gives it to every process that held it). A new description carries one reference:
 * give it to the first descriptor with {@link FileTable#installOwned} and to further ones with
 * {@link FileTable#installShared}, or drop it with {@link #discard}. A new shared-memory
 * object carries one hold, which a mapping takes over ({@link AddressSpace#mapShared(long,
 * int, Vma.Kind, String, String, SharedMemory)}) or {@link #discard(SharedMemory)} drops.
 */
public final class KernelObjects {
  private final KernelIds ids;
  private final NodeMemory accounting;

  KernelObjects(KernelIds ids, NodeMemory accounting) {
    this.ids = ids;
    this.accounting = accounting;
  }

  /** An empty pipe of {@link FileView#PIPE_CAPACITY} bytes with no ends; refill it with {@link Pipe#fill}. */
  public Pipe pipe() {
    return pipe(FileView.PIPE_CAPACITY);
  }

  /**
   * An empty pipe of {@code capacity} bytes (a pipe grown by {@code F_SETPIPE_SZ} keeps its
   * size through a checkpoint), from 1 to {@link Pipe#MAX_CAPACITY}.
   */
  public Pipe pipe(int capacity) {
    return new Pipe(ids.next(), capacity);
  }

  public PipeEnd pipeEnd(Pipe pipe, boolean readEnd) {
    return new PipeEnd(ids.next(), pipe, readEnd);
  }

  /** A socket end that reads {@code in} and writes {@code out}. */
  public SocketEnd socketEnd(Pipe in, Pipe out) {
    return new SocketEnd(ids.next(), in, out);
  }

  public SharedMemory sharedMemory(String name, long length) {
    return new SharedMemory(ids.next(), name, length, accounting);
  }

  /**
   * Takes one more hold of {@code memory}, for one more mapping of it to take over (restore
   * maps one object into several processes).
   */
  public SharedMemory hold(SharedMemory memory) {
    memory.retain();
    return memory;
  }

  /** A memfd description holding {@code memory} (it takes a hold of its own). */
  public MemfdFile memfd(SharedMemory memory) {
    memory.retain();
    return new MemfdFile(ids.next(), memory);
  }

  /** A regular file opened again at {@code position} (never created). */
  public OpenFile openFile(Path path, int flags, long position) {
    return FileTable.openChannel(ids, path, flags, false, position);
  }

  public DeviceDescription device(DeviceFile file) {
    return new DeviceDescription(ids.next(), file);
  }

  /** Drops the creator's reference of a description no descriptor took. */
  public void discard(FileDescription description) {
    description.release();
  }

  /** Drops the creator's hold of shared memory no mapping took. */
  public void discard(SharedMemory memory) {
    memory.release();
  }
}
