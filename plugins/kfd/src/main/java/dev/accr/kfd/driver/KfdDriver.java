package dev.accr.kfd.driver;

import dev.accr.api.AccrException;
import dev.accr.api.DeviceDriver;
import dev.accr.api.DeviceFile;
import dev.accr.api.NodeContext;
import dev.accr.api.ProcessView;
import dev.accr.proto.Device;
import dev.accr.proto.Link;
import dev.accr.proto.LinkType;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The KFD driver of a node: its GPUs, and the KFD state of every process that opened
 * {@code /dev/kfd}. A fresh process sees the node's GPU ids; a restored one sees the ids it
 * had, mapped onto this node's GPUs.
 */
public final class KfdDriver implements DeviceDriver {
  private final NodeContext node;
  private final Map<Integer, Gpu> gpus = new LinkedHashMap<>(); // physical id -> GPU
  private final Map<Integer, KfdProcess> processes = new ConcurrentHashMap<>();
  private final Map<Long, DmaBuf> dmaBufs = new ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.AtomicLong nextDmaBufId =
      new java.util.concurrent.atomic.AtomicLong(1);

  KfdDriver(NodeContext node, List<Device> devices) {
    this.node = node;
    for (Device d : devices) {
      Set<Integer> linked = new HashSet<>();
      Set<Integer> xgmi = new HashSet<>();
      for (Link l : node.topology().getLinksList()) {
        if (l.getFrom() == d.getNode()) {
          linked.add(l.getTo());
          if (l.getType() == LinkType.XGMI) {
            xgmi.add(l.getTo());
          }
        }
      }
      gpus.put(d.getGpuId(), new Gpu(d, linked, xgmi));
    }
  }

  @Override
  public String type() {
    return "kfd";
  }

  public NodeContext node() {
    return node;
  }

  /** The node's GPUs in topology order. */
  public List<Gpu> gpus() {
    return new ArrayList<>(gpus.values());
  }

  /** The GPU with physical id {@code gpuId}. */
  public Gpu gpu(int gpuId) {
    Gpu g = gpus.get(gpuId);
    if (g == null) {
      throw AccrException.notFound("node %s has no gpu 0x%x", node.name(), gpuId);
    }
    return g;
  }

  @Override
  public boolean handles(String path) {
    return path.equals(KfdProcess.PATH) || DmaBufFile.idOf(path) > 0 || gpus.values().stream()
        .anyMatch(g -> g.renderPath().equals(path));
  }

  @Override
  public DeviceFile open(ProcessView process, String path) {
    if (path.equals(KfdProcess.PATH)) {
      Map<Integer, Gpu> identity = new LinkedHashMap<>(gpus);
      return attach(process, identity);
    }
    long dmaBufId = DmaBufFile.idOf(path);
    if (dmaBufId > 0) {
      DmaBuf buffer = dmaBufs.get(dmaBufId);
      if (buffer == null) {
        throw AccrException.notFound("open: no such dma-buf: %s", path);
      }
      return new DmaBufFile(buffer);
    }
    return gpus.values().stream().filter(g -> g.renderPath().equals(path)).findFirst()
        .map(RenderNode::new)
        .orElseThrow(() -> AccrException.notFound("open: no such device: %s", path));
  }

  /** Opens a render node of the GPU with physical id {@code gpuId}. */
  public RenderNode openRender(int gpuId) {
    return new RenderNode(gpu(gpuId));
  }

  /**
   * Creates the KFD state of a process whose GPU ids map to this node's GPUs by
   * {@code visibleToPhysical} (restore).
   */
  public KfdProcess attach(ProcessView process, Map<Integer, Gpu> visibleToGpu) {
    KfdProcess p = new KfdProcess(this, process, visibleToGpu);
    if (processes.putIfAbsent(process.pid(), p) != null) {
      throw AccrException.failed("kfd: process %d already has /dev/kfd open", process.pid());
    }
    return p;
  }

  /** The KFD state of process {@code pid}, or null. */
  public KfdProcess process(int pid) {
    return processes.get(pid);
  }

  /**
   * A new dma-buf without memory yet, with identity {@code id} if free (a restore keeps the
   * dumped identities where it can), else a fresh one.
   */
  public DmaBuf newDmaBuf(long id) {
    if (id > 0) {
      DmaBuf buffer = new DmaBuf(this, id);
      if (dmaBufs.putIfAbsent(id, buffer) == null) {
        nextDmaBufId.accumulateAndGet(id + 1, Math::max);
        return buffer;
      }
    }
    while (true) {
      long fresh = nextDmaBufId.getAndIncrement();
      DmaBuf buffer = new DmaBuf(this, fresh);
      if (dmaBufs.putIfAbsent(fresh, buffer) == null) {
        return buffer;
      }
    }
  }

  /** Opens a descriptor of {@code buffer} (a restored descriptor). */
  public DmaBufFile openDmaBuf(DmaBuf buffer) {
    return new DmaBufFile(buffer);
  }

  /** The dma-bufs alive on this node, by id. */
  public List<DmaBuf> dmaBufs() {
    return new java.util.TreeMap<>(dmaBufs).values().stream().toList();
  }

  /** The dma-bufs alive on this node (for checks that a failed restore left nothing). */
  public int dmaBufCount() {
    return dmaBufs.size();
  }

  /** Forgets {@code buffer} if no descriptor or buffer object holds it (a failed restore). */
  public void discardIfUnused(DmaBuf buffer) {
    if (buffer.unused()) {
      forget(buffer);
    }
  }

  void forget(DmaBuf buffer) {
    dmaBufs.remove(buffer.id(), buffer);
  }

  void forget(KfdProcess p) {
    processes.remove(p.pid(), p);
  }

  /** Processes with KFD state (for checks that a failed restore left nothing behind). */
  public int processCount() {
    return processes.size();
  }

  /** VRAM bytes allocated to buffers and SVM ranges on all GPUs. */
  public long allocatedVramBytes() {
    return gpus.values().stream().mapToLong(g -> g.allocator().usedBytes()).sum();
  }

  @Override
  public void close() {
    for (KfdProcess p : List.copyOf(processes.values())) {
      p.close();
    }
    for (Gpu g : gpus.values()) {
      g.close();
    }
  }
}
