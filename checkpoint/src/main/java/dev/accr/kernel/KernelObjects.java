package dev.accr.kernel;

/**
 * What a restore uses to recreate the kernel objects a tree shared, each once, and to hand
 * them to every process that held them: pipes with their buffered bytes, pipe and socket ends
 * at given descriptors, shared memory mapped by several processes or held as a memfd, and the
 * family relations of restored processes.
 */
public final class KernelObjects {
  private KernelObjects() {}

  /** A new pipe of {@code capacity} bytes on {@code node}, holding {@code data}. */
  public static Pipe pipe(Node node, int capacity, byte[] data) {
    Pipe pipe = new Pipe(node.ids().next(), capacity);
    if (data.length > 0) {
      pipe.fill(data);
    }
    return pipe;
  }

  /** A new open description of one end of {@code pipe}, at descriptor {@code fd} of {@code p}. */
  public static FileDescription installPipeEnd(Node node, SimProcess p, int fd, Pipe pipe,
      boolean readEnd) {
    return install(p, fd, new PipeEnd(node.ids().next(), pipe, readEnd));
  }

  /** A new socket end reading {@code in} and writing {@code out}, at {@code fd} of {@code p}. */
  public static FileDescription installSocketEnd(Node node, SimProcess p, int fd, Pipe in,
      Pipe out) {
    return install(p, fd, new SocketEnd(node.ids().next(), in, out));
  }

  /** A new memfd description of {@code shm} (which it holds once more), at {@code fd}. */
  public static FileDescription installMemfd(Node node, SimProcess p, int fd, SharedMemory shm) {
    shm.retain();
    return install(p, fd, new MemfdFile(node.ids().next(), shm));
  }

  /** Maps the whole of {@code shm} (which the mapping holds once more) into {@code p}. */
  public static void mapShared(SimProcess p, long start, int prot, Vma.Kind kind, String name,
      String path, SharedMemory shm) {
    shm.retain();
    try {
      p.memory().mapShared(start, prot, kind, name, path, shm);
    } catch (RuntimeException e) {
      shm.release();
      throw e;
    }
  }

  /** Drops the hold its creator had on {@code shm} ({@link Node#newSharedMemory}). */
  public static void release(SharedMemory shm) {
    shm.release();
  }

  /** Records {@code child} as a child of {@code parent} (both restored). */
  public static void addChild(SimProcess parent, int child) {
    parent.lineage().addChild(child);
  }

  private static FileDescription install(SimProcess p, int fd, FileDescription d) {
    try {
      p.files().installShared(fd, d); // the descriptor's reference
    } finally {
      d.release(); // the creation's reference: the descriptor holds it alone, or nobody
    }
    return d;
  }
}
