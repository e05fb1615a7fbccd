package dev.accr.kernel;

import dev.accr.api.AccrException;
import dev.accr.api.MemoryView;
import dev.accr.proto.Topology;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * Whether a node has room for one more process: its process count and host memory limits
 * (the configured one, or the topology's memory), against what its live processes hold.
 */
final class NodeRoom {
  private final String nodeName;
  private final Topology topology;
  private final NodeLimits limits;
  private final NodeMemory memory;

  NodeRoom(String nodeName, Topology topology, NodeLimits limits, NodeMemory memory) {
    this.nodeName = nodeName;
    this.topology = topology;
    this.limits = limits;
    this.memory = memory;
  }

  /** The host memory the node's processes may hold in all: the limit, or the topology's. */
  long memoryLimit() {
    long total = topology.getCpusList().stream().mapToLong(c -> c.getMemoryBytes()).sum();
    return limits.memoryBytes() > 0 ? limits.memoryBytes() : total;
  }

  /** See {@link Node#checkRoom}: {@code processes} is the node's table. */
  void check(Collection<SimProcess> processes, String what, long bytes, SimProcess except) {
    int live = 0;
    long held = 0;
    Set<SharedMemory> shared = Collections.newSetFromMap(new IdentityHashMap<>());
    for (SimProcess p : processes) {
      if (p != except && p.state() != SimProcess.State.EXITED) {
        live++;
        held += p.memory().privatePages() * MemoryView.PAGE_SIZE;
        shared.addAll(p.memory().sharedObjects()); // frames several processes map count once
      }
    }
    for (SharedMemory shm : shared) {
      held += shm.residentPages() * MemoryView.PAGE_SIZE;
    }
    held += memory.stagedPages() * MemoryView.PAGE_SIZE; // loaded for a process on its way
    if (live >= limits.maxProcesses()) {
      throw AccrException.failed("%s refused: node %s runs %d processes, its limit", what,
          nodeName, live);
    }
    long limit = memoryLimit();
    if (bytes > limit - held) {
      throw AccrException.failed("%s refused: it needs %d MiB of memory, node %s has %d MiB of"
          + " its %d MiB left", what, bytes >> 20, nodeName, Math.max(0, limit - held) >> 20,
          limit >> 20);
    }
  }
}
