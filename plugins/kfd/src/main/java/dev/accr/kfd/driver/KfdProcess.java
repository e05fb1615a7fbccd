package dev.accr.kfd.driver;

import dev.accr.api.AccrException;
import dev.accr.api.DeviceFile;
import dev.accr.api.ProcessView;
import dev.accr.kfd.proto.QueueType;
import dev.accr.proto.Device;
import java.lang.foreign.MemorySegment;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;

/**
 * The KFD state of one process, reached through its {@code /dev/kfd} descriptor: the calls
 * here are the driver's ioctls (buffer objects, queues, events, SVM). GPU ids are the ones the
 * process sees; the driver maps them to this node's GPUs, so a restored process keeps its ids.
 */
public final class KfdProcess implements DeviceFile {
  public static final String PATH = "/dev/kfd";

  private final KfdDriver driver;
  private final ProcessView process;
  final GpuVm vm;
  final SignalEvents events = new SignalEvents();
  final TreeMap<Integer, HwQueue> queues = new TreeMap<>();
  int nextHandle = 1;
  int nextQueueId = 1;
  private volatile boolean closed;

  KfdProcess(KfdDriver driver, ProcessView process, Map<Integer, Gpu> gpus) {
    this.driver = driver;
    this.process = process;
    this.vm = new GpuVm(process.memory(), gpus);
  }

  /**
   * Limits the process to some GPUs, as a device cgroup exposing only their render nodes does
   * (KFD then hides the others): they are all it uses, is checkpointed with and needs on
   * restore. Only before the first allocation or queue.
   */
  public synchronized void restrictDevices(Collection<Integer> gpuIds) {
    if (!queues.isEmpty()) {
      throw AccrException.failed("kfd: devices can only be restricted before first use");
    }
    vm.restrictTo(gpuIds);
  }

  @Override
  public String path() {
    return PATH;
  }

  public int pid() {
    return process.pid();
  }

  ProcessView process() {
    return process;
  }

  boolean isClosed() {
    return closed;
  }

  KfdDriver driver() {
    return driver;
  }

  /** The GPUs this process sees, in the node's topology order (as when it first opened). */
  public List<Integer> gpuIds() {
    return new ArrayList<>(vm.gpus().keySet());
  }

  /** The topology properties of GPU {@code gpuId} (as this node has it). */
  public Device properties(int gpuId) {
    return vm.gpu(gpuId).device();
  }

  /** Whether kernels on {@code from} can reach {@code to}'s VRAM (a direct link). */
  public boolean canReach(int from, int to) {
    return vm.gpu(from).canReach(vm.gpu(to));
  }

  /**
   * Loads the program's code objects, one per ISA (gfx target version) it was built for, like
   * a binary built for several {@code --offload-arch} targets. A dispatch on a GPU whose ISA has
   * no code object faults.
   */
  public void loadCodeObjects(Collection<Integer> isas) {
    vm.loadCodeObjects(isas);
  }

  /** The ISAs the program has code for, ascending. */
  public SortedSet<Integer> codeObjectIsas() {
    return vm.codeObjectIsas();
  }

  /** Allocates a VRAM buffer at GPU address {@code va}; returns its handle. */
  public int allocVram(int gpuId, long va, long size, int flags) {
    return BufferAllocation.allocVram(this, gpuId, va, size, flags);
  }

  /** Allocates a GTT buffer: host memory mapped into the process at {@code va} and the GPU. */
  public int allocGtt(int gpuId, long va, long size) {
    return BufferAllocation.allocGtt(this, gpuId, va, size);
  }

  /** Registers existing host memory at {@code va} for GPU access. */
  public int registerUserptr(int gpuId, long va, long size) {
    return BufferAllocation.registerUserptr(this, gpuId, va, size);
  }

  /** Maps the GPU's doorbell (or MMIO) page into the process at {@code va}. */
  public int mapDevicePage(int gpuId, long va, boolean doorbell) {
    return BufferAllocation.mapDevicePage(this, gpuId, va, doorbell);
  }

  /**
   * Frees buffer {@code handle}, as FREE_MEMORY_OF_GPU: its VRAM returns to its GPU (a buffer
   * allocated there later reads zeros), a GTT buffer's or device page's host mapping is
   * removed, a USERPTR registration ends (the host memory stays). Handles are never reused.
   * The program must not free a buffer that queued work still uses (the work would fault).
   */
  public void freeMemory(int handle) {
    BufferAllocation.freeMemory(this, handle);
  }

  /**
   * Exports VRAM buffer {@code handle} as a dma-buf and opens a descriptor of it in this
   * process (EXPORT_DMABUF): another process that obtains a descriptor (by
   * {@code pidfd_getfd}, or by opening its path) can {@link #importDmaBuf} it. The memory stays
   * allocated while any process holds the buffer. Exporting a buffer twice gives another
   * descriptor of the same dma-buf. Returns the descriptor.
   */
  public int exportDmaBuf(int handle) {
    return process.files().addDevice(driver.openDmaBuf(dmaBufOf(handle)));
  }

  /** The dma-buf of VRAM buffer {@code handle}, exporting it on first use. */
  public DmaBuf dmaBufOf(int handle) {
    return DmaBufSharing.export(this, handle);
  }

  /**
   * Imports the dma-buf behind descriptor {@code fd} at GPU address {@code va}, mapped on GPU
   * {@code gpuId} of this process (IMPORT_DMABUF): on the GPU holding it, or on a peer with
   * an XGMI or PCIe peer-to-peer link to it (kernels then read and write across the link).
   * Returns the new buffer's handle.
   */
  public int importDmaBuf(int fd, int gpuId, long va) {
    return importDmaBuf(process.files().device(fd, DmaBufFile.class).buffer(), gpuId, va, 0);
  }

  /** Imports {@code buffer} under handle {@code handle} (0: the next free one). */
  int importDmaBuf(DmaBuf buffer, int gpuId, long va, int handle) {
    return DmaBufSharing.importInto(this, buffer, gpuId, va, handle);
  }

  /** Maps buffer {@code handle} on another GPU (peer access needs a link to use it). */
  public synchronized void mapToGpu(int handle, int gpuId) {
    vm.gpu(gpuId);
    bo(handle).mapOn(gpuId);
  }

  /** The buffer with {@code handle}. */
  public Bo buffer(int handle) {
    return bo(handle);
  }

  /** Whether buffer {@code handle} exists at GPU address {@code va}. */
  public boolean hasBuffer(int handle, long va) {
    Bo bo = vm.boAt(va);
    return bo != null && bo.handle() == handle && bo.va() == va;
  }

  Bo bo(int handle) {
    return vm.bos().stream().filter(b -> b.handle() == handle).findFirst()
        .orElseThrow(() -> AccrException.failed("kfd: no buffer with handle %d", handle));
  }

  /** Creates a queue whose ring of {@code slots} packets is at {@code ringVa}; returns its id. */
  public synchronized int createQueue(int gpuId, QueueType type, int priority, long ringVa,
      int slots) {
    vm.gpu(gpuId);
    if (slots <= 0 || Integer.bitCount(slots) != 1) {
      throw AccrException.failed("kfd: ring slots %d is not a power of two", slots);
    }
    HwQueue q = new HwQueue(nextQueueId, gpuId, type, priority, ringVa, slots, vm,
        process.memory(), events, false);
    queues.put(nextQueueId, q);
    q.start();
    return nextQueueId++;
  }

  public void ringDoorbell(int queueId, long writeIndex) {
    queue(queueId).ringDoorbell(writeIndex);
  }

  public long writeIndex(int queueId) {
    return queue(queueId).writeIndex();
  }

  synchronized HwQueue queue(int queueId) {
    HwQueue q = queues.get(queueId);
    if (q == null) {
      throw AccrException.failed("kfd: no queue %d", queueId);
    }
    return q;
  }

  synchronized List<HwQueue> queueList() {
    return new ArrayList<>(queues.values());
  }

  public int createEvent() {
    return events.create();
  }

  public long eventCount(int event) {
    return events.count(event);
  }

  /**
   * How many times the packets queued but not yet completed will signal {@code event}: with
   * {@link #eventCount} what a program can still wait for. Reads the rings in host memory.
   */
  public long pendingSignals(int event) {
    return EventWaits.pendingSignals(this, event);
  }

  /**
   * Waits until {@code event} was signalled {@code count} times. The wait ends early when the
   * waiting thread is interrupted (its process is being killed) or the device file is closed.
   *
   * @throws AccrException if a queue of the process faulted (the program crashes), or the wait
   *     was interrupted
   */
  public void waitEvent(int event, long count) {
    EventWaits.waitEvent(this, event, count);
  }

  /** Makes host memory at {@code start} (already mapped) an SVM range. */
  public void svmRegister(long start, long size) {
    vm.add(new SvmRange(start, size));
  }

  public void svmSetAttributes(long start, int preferred, int prefetch, Set<Integer> access,
      int flags, int granularity) {
    for (int g : access) {
      vm.gpu(g);
    }
    svm(start).setAttributes(preferred, prefetch, access, flags, granularity);
  }

  /** Migrates every page of the range at {@code start} to {@code location} (0: system). */
  public void svmPrefetch(long start, int location) {
    vm.prefetch(svm(start), location);
  }

  /** Where the page at {@code va} of an SVM range lives (0: system, else a GPU id). */
  public int svmLocation(long va) {
    SvmRange r = vm.svmAt(va);
    if (r == null) {
      throw AccrException.failed("kfd: 0x%x is not in an SVM range", va);
    }
    return r.location((int) ((va - r.start()) / GpuVm.PAGE));
  }

  SvmRange svm(long start) {
    SvmRange r = vm.svmAt(start);
    if (r == null || r.start() != start) {
      throw AccrException.failed("kfd: no SVM range at 0x%x", start);
    }
    return r;
  }

  /** Reads the 8 bytes at a VRAM buffer address through the CPU-visible window. */
  public long cpuReadLong(long va) {
    return CpuWindow.readLong(vm, va);
  }

  /**
   * Stores 8 bytes at a VRAM buffer address through the CPU-visible window (a CPU store to a
   * mapped VRAM buffer); the page counts as written for dirty tracking.
   */
  public void cpuWriteLong(long va, long value) {
    CpuWindow.writeLong(vm, va, value);
  }

  /**
   * Copies {@code src} to a VRAM buffer address through the CPU-visible window (a memcpy into a
   * mapped VRAM buffer); its pages count as written for dirty tracking.
   */
  public void cpuWrite(long va, MemorySegment src) {
    CpuWindow.write(vm, va, src);
  }

  @Override
  public void digest(MessageDigest digest) {
    KfdDigest.update(this, digest);
  }

  /** Destroys queues and frees device memory, as when the last descriptor closes. */
  @Override
  public void close() {
    List<HwQueue> qs;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      qs = new ArrayList<>(queues.values());
      queues.clear();
    }
    for (HwQueue q : qs) {
      q.close();
    }
    vm.releaseAll();
    driver.forget(this);
  }
}
