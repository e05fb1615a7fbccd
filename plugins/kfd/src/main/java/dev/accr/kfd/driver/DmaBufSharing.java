package dev.accr.kfd.driver;

import dev.accr.api.AccrException;
import dev.accr.kfd.proto.BoDomain;

/** EXPORT_DMABUF and IMPORT_DMABUF of a process's GPU VM. */
final class DmaBufSharing {
  private DmaBufSharing() {}

  /** The dma-buf of {@code p}'s VRAM buffer {@code handle}, exporting it on first use. */
  static DmaBuf export(KfdProcess p, int handle) {
    synchronized (p) {
      Bo bo = p.bo(handle);
      if (bo.domain() != BoDomain.VRAM) {
        throw AccrException.failed("kfd: %s cannot be exported: only VRAM buffers can", bo);
      }
      if (bo.dmaBuf() != null) {
        return bo.dmaBuf();
      }
      DmaBuf buffer = p.driver().newDmaBuf(0);
      buffer.bind(bo, p.pid());
      return buffer;
    }
  }

  /**
   * Maps {@code buffer} into {@code p} at {@code va} on its GPU {@code gpuId} under handle
   * {@code handle} (0: the next free one), if that GPU reaches the buffer's.
   */
  static int importInto(KfdProcess p, DmaBuf buffer, int gpuId, long va, int handle) {
    synchronized (p) {
      Gpu self = p.vm.gpu(gpuId);
      Gpu home = buffer.gpu();
      if (!self.canReach(home)) {
        throw AccrException.failed("kfd: cannot import %s of gpu %s on gpu %s: no XGMI or PCIe"
            + " peer-to-peer link between them", buffer, home, self);
      }
      int h = handle == 0 ? p.nextHandle : handle;
      Bo bo = new Bo(h, gpuId, home, BoDomain.VRAM, va, buffer.size(), 0,
          buffer.vramOffset(), 0, true);
      p.vm.add(bo);
      buffer.hold(bo, p.pid());
      if (handle == 0) {
        p.nextHandle++;
      }
      return h;
    }
  }
}
