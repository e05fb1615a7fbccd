package dev.accr.bench;

import dev.accr.kernel.SharedMemory;
import dev.accr.kernel.SimProcess;
import dev.accr.kfd.driver.DmaBuf;
import dev.accr.kfd.driver.KfdCriu;
import dev.accr.kfd.driver.KfdDriver;
import dev.accr.kfd.driver.KfdProcess;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The memory a tree of processes holds, as a dump must save it: host memory (private pages,
 * and each shared-memory object once) and VRAM (each process's own buffers, each dma-buf once,
 * from its exporter); and the same sums if every holder of a shared object had its own copy.
 *
 * @param hostBytes host memory, shared objects counted once
 * @param sharedHostBytes the part of {@code hostBytes} in shared objects
 * @param hostPerHolderBytes host memory with each shared object counted in every process
 *     mapping it (as Linux's RSS)
 * @param vramBytes VRAM, each shared buffer counted once
 * @param sharedVramBytes the part of {@code vramBytes} in dma-bufs
 * @param vramPerHolderBytes VRAM with each dma-buf counted in every process holding it
 */
record TreeMemory(long hostBytes, long sharedHostBytes, long hostPerHolderBytes,
    long vramBytes, long sharedVramBytes, long vramPerHolderBytes) {
  private static final long PAGE = 4096;

  /** Measures {@code tree} (stopped or stepped inline: nothing runs meanwhile). */
  static TreeMemory of(List<SimProcess> tree, KfdDriver kfd) {
    long host = 0;
    long sharedHost = 0;
    long hostPerHolder = 0;
    long vram = 0;
    Set<SharedMemory> seen = new HashSet<>();
    Set<Integer> pids = new HashSet<>();
    for (SimProcess p : tree) {
      pids.add(p.pid());
      host += p.memory().privatePages() * PAGE;
      hostPerHolder += p.memory().residentPages() * PAGE;
      for (SharedMemory shm : p.memory().sharedObjects()) {
        if (seen.add(shm)) {
          sharedHost += shm.residentPages() * PAGE;
        }
      }
      KfdProcess gpu = kfd == null ? null : kfd.process(p.pid());
      if (gpu != null) {
        vram += KfdCriu.vramInUse(gpu); // its own buffers, exported ones included
      }
    }
    long sharedVram = 0;
    long vramPerHolder = vram;
    if (kfd != null) {
      for (DmaBuf b : kfd.dmaBufs()) {
        if (!b.bound() || !pids.contains(b.exporterPid())) {
          continue;
        }
        sharedVram += b.size();
        long importers = b.holderPids().stream().filter(pids::contains).count() - 1;
        vramPerHolder += Math.max(0, importers) * b.size();
      }
    }
    return new TreeMemory(host + sharedHost, sharedHost, hostPerHolder, vram, sharedVram,
        vramPerHolder);
  }

  /** Host and VRAM, shared objects counted once. */
  long totalBytes() {
    return hostBytes + vramBytes;
  }

  /** Host and VRAM, shared objects counted in every holder. */
  long perHolderBytes() {
    return hostPerHolderBytes + vramPerHolderBytes;
  }
}
