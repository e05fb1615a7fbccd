package dev.accr.kernel;

import dev.accr.api.DeviceDriver;
import java.util.function.Function;

/** What a node's processes reach of its kernel: accounting, ids, drivers, the process tree. */
interface Kernel {
  NodeMemory memory();

  KernelIds ids();

  /** The driver whose device files include a path, or null. */
  Function<String, DeviceDriver> drivers();

  ProcessTree tree();

  /** The file table of live process {@code pid} (pidfd_getfd). */
  FileTable filesOf(int pid);

  /** Creates a child of {@code parent}, in the table, not started. */
  SimProcess fork(SimProcess parent);
}
