package dev.accr.kfd.driver;

import dev.accr.api.DeviceMapping;
import dev.accr.api.Prot;
import dev.accr.kfd.proto.BoDomain;

/** ALLOC_MEMORY_OF_GPU and FREE_MEMORY_OF_GPU of a process: its buffers and their memory. */
final class BufferAllocation {
  /** mmap offsets of doorbell and MMIO pages name their type and GPU, as in amdkfd. */
  static final long MMAP_DOORBELL = 3L << 62;
  static final long MMAP_MMIO = 2L << 62;

  private BufferAllocation() {}

  /** See {@link KfdProcess#allocVram}. */
  static int allocVram(KfdProcess p, int gpuId, long va, long size, int flags) {
    synchronized (p) {
      Gpu g = p.vm.gpu(gpuId);
      long offset = g.allocator().allocate(size, (flags & Bo.FLAG_CPU_VISIBLE) != 0,
          g.toString());
      return addBo(p, new Bo(p.nextHandle, gpuId, g, BoDomain.VRAM, va, size, flags, offset, 0),
          offset);
    }
  }

  /** See {@link KfdProcess#allocGtt}. */
  static int allocGtt(KfdProcess p, int gpuId, long va, long size) {
    synchronized (p) {
      Gpu g = p.vm.gpu(gpuId);
      Bo bo = new Bo(p.nextHandle, gpuId, g, BoDomain.GTT, va, size, Bo.FLAG_COHERENT, -1, 0);
      p.vm.add(bo);
      p.process().memory().mapAnonymous(va, size, Prot.RW, "kfd-gtt");
      return p.nextHandle++;
    }
  }

  /** See {@link KfdProcess#registerUserptr}. */
  static int registerUserptr(KfdProcess p, int gpuId, long va, long size) {
    synchronized (p) {
      Gpu g = p.vm.gpu(gpuId);
      p.vm.add(new Bo(p.nextHandle, gpuId, g, BoDomain.USERPTR, va, size, 0, -1, 0));
      return p.nextHandle++;
    }
  }

  /** See {@link KfdProcess#mapDevicePage}. */
  static int mapDevicePage(KfdProcess p, int gpuId, long va, boolean doorbell) {
    synchronized (p) {
      Gpu g = p.vm.gpu(gpuId);
      long offset = mmapOffset(doorbell ? BoDomain.DOORBELL : BoDomain.MMIO, g);
      p.vm.add(new Bo(p.nextHandle, gpuId, g, doorbell ? BoDomain.DOORBELL : BoDomain.MMIO, va,
          GpuVm.PAGE, 0, -1, offset));
      p.process().memory().mapDevice(
          new DeviceMapping(va, GpuVm.PAGE, Prot.RW, KfdProcess.PATH, offset),
          doorbell ? "kfd-doorbell" : "kfd-mmio");
      return p.nextHandle++;
    }
  }

  static long mmapOffset(BoDomain domain, Gpu g) {
    return (domain == BoDomain.DOORBELL ? MMAP_DOORBELL : MMAP_MMIO) | ((long) g.gpuId() << 12);
  }

  private static int addBo(KfdProcess p, Bo bo, long vramOffset) {
    try {
      p.vm.add(bo);
    } catch (RuntimeException e) {
      bo.gpu().allocator().free(vramOffset);
      throw e;
    }
    return p.nextHandle++;
  }

  /** See {@link KfdProcess#freeMemory}. */
  static void freeMemory(KfdProcess p, int handle) {
    synchronized (p) {
      Bo bo = p.bo(handle);
      p.vm.removeBo(bo.va());
      switch (bo.domain()) {
        case VRAM -> bo.releaseVram(); // a shared buffer lives on while others hold it
        case GTT, DOORBELL, MMIO -> p.process().memory().unmap(bo.va(), bo.size());
        default -> { }
      }
    }
  }
}
