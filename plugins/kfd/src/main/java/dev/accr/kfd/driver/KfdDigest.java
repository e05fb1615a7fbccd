package dev.accr.kfd.driver;

import dev.accr.kfd.proto.BoDomain;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;

/**
 * What a process's KFD state adds to its digest: buffers (VRAM contents; GTT and USERPTR live
 * in host memory, hashed by the core), SVM ranges with each page's location and the contents
 * of pages in VRAM, queues, and event counts. Only process-visible ids appear.
 */
final class KfdDigest {
  private KfdDigest() {}

  static void update(KfdProcess p, MessageDigest sha) {
    ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
    for (Bo bo : p.vm.bos()) {
      put(sha, b, bo.handle(), bo.gpuId(), bo.domain().getNumber(), bo.va(), bo.size(), bo.flags());
      // A shared buffer's contents count once, with its exporter, not with each importer.
      // Once the exporter freed its buffer they count with nobody: which import keeps them
      // would depend on the schedule. Programs see them through what they read.
      if (bo.domain() == BoDomain.VRAM && !bo.imported()) {
        for (long at = 0; at < bo.size(); at += GpuVm.PAGE) {
          long n = Math.min(GpuVm.PAGE, bo.size() - at);
          sha.update(bo.gpu().vram().forRead(bo.vramOffset() + at, n).asByteBuffer());
        }
      }
    }
    for (SvmRange r : p.vm.svmRanges()) {
      put(sha, b, r.start(), r.size(), r.preferredLocation(), r.prefetchLocation(), r.flags(),
          r.granularity());
      for (int g : r.accessGpus()) {
        put(sha, b, g);
      }
      int[] where = r.residency();
      for (int page = 0; page < where.length; page++) {
        put(sha, b, where[page]);
        if (where[page] != SvmRange.SYSTEM) {
          sha.update(p.vm.pageOf(r, page, where[page]).asByteBuffer());
        }
      }
    }
    for (HwQueue q : p.queueList()) {
      put(sha, b, q.queueId(), q.gpuId(), q.type().getNumber(), q.priority(), q.ringVa(),
          q.slots(), q.readIndex(), q.writeIndex());
    }
    for (var e : p.events.snapshot().entrySet()) {
      put(sha, b, e.getKey(), e.getValue());
    }
  }

  private static void put(MessageDigest sha, ByteBuffer b, long... values) {
    b.clear();
    for (long v : values) {
      b.putLong(v);
    }
    sha.update(b.flip());
  }
}
