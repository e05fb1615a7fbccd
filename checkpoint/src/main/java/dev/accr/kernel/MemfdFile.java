package dev.accr.kernel;

/** An open memfd: a descriptor that holds a shared-memory object, which mappings share. */
public final class MemfdFile extends FileDescription {
  private final SharedMemory memory;

  MemfdFile(long id, SharedMemory memory) {
    super(id);
    this.memory = memory;
  }

  public SharedMemory memory() {
    return memory;
  }

  @Override
  void closeLast() {
    memory.release();
  }

  @Override
  public String describe() {
    return "/memfd:" + memory.name();
  }
}
