package dev.accr.npu.driver;

import dev.accr.api.AccrException;
import dev.accr.api.DeviceDriver;
import dev.accr.api.DeviceFile;
import dev.accr.api.NodeContext;
import dev.accr.api.ProcessView;
import dev.accr.proto.Device;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The npu driver of a node: its npus ({@code /dev/npu0}, {@code /dev/npu1}, ... in topology
 * order) and the contexts processes opened on them.
 */
public final class NpuDriver implements DeviceDriver {
  public static final String TYPE = "npu";

  private final NodeContext node;
  private final List<Npu> npus = new ArrayList<>();
  private final Map<Integer, List<NpuContext>> contexts = new ConcurrentHashMap<>();

  NpuDriver(NodeContext node, List<Device> devices) {
    this.node = node;
    for (Device d : devices) {
      if (d.getNpuId() == 0 || d.getNpuChip().isEmpty() || d.getNpuMemoryBytes() <= 0) {
        throw AccrException.usage("topology %s: npu at node %d needs npuId, npuChip and"
            + " npuMemoryBytes", node.topology().getName(), d.getNode());
      }
      npus.add(new Npu(d, npus.size()));
    }
  }

  @Override
  public String type() {
    return TYPE;
  }

  /** The node's npus in topology order. */
  public List<Npu> npus() {
    return List.copyOf(npus);
  }

  /** The npu with id {@code npuId}. */
  public Npu npu(int npuId) {
    return npus.stream().filter(n -> n.npuId() == npuId).findFirst().orElseThrow(
        () -> AccrException.notFound("node %s has no npu %d", node.name(), npuId));
  }

  @Override
  public boolean handles(String path) {
    return npus.stream().anyMatch(n -> n.path().equals(path));
  }

  @Override
  public DeviceFile open(ProcessView process, String path) {
    Npu npu = npus.stream().filter(n -> n.path().equals(path)).findFirst()
        .orElseThrow(() -> AccrException.notFound("open: no such device: %s", path));
    return add(new NpuContext(this, process, npu, NpuContext.State.RUNNING));
  }

  /**
   * A context for a restored process on {@code npu}, CHECKPOINTED: it holds nothing until
   * {@link NpuContext#restore} acquires the device.
   */
  public NpuContext reopen(ProcessView process, Npu npu) {
    return add(new NpuContext(this, process, npu, NpuContext.State.CHECKPOINTED));
  }

  private NpuContext add(NpuContext c) {
    contexts.computeIfAbsent(c.pid(), p -> new CopyOnWriteArrayList<>()).add(c);
    return c;
  }

  /** The contexts of process {@code pid} in the order they were opened. */
  public List<NpuContext> contexts(int pid) {
    return List.copyOf(contexts.getOrDefault(pid, List.of()));
  }

  /** Which save area slot a context uses: its place among its process's contexts. */
  int slotOf(NpuContext c) {
    return contexts.getOrDefault(c.pid(), List.of()).indexOf(c);
  }

  void forget(NpuContext c) {
    contexts.computeIfPresent(c.pid(), (pid, list) -> {
      list.remove(c);
      return list.isEmpty() ? null : list;
    });
  }

  /** Contexts open on this node (for checks that a failed restore left nothing behind). */
  public int contextCount() {
    return contexts.values().stream().mapToInt(List::size).sum();
  }

  /** Device memory held on all npus. */
  public long usedBytes() {
    return npus.stream().mapToLong(Npu::usedBytes).sum();
  }

  @Override
  public void close() {
    for (List<NpuContext> list : List.copyOf(contexts.values())) {
      for (NpuContext c : List.copyOf(list)) {
        c.close();
      }
    }
  }
}
