package dev.accr.kfd.plugin;

import dev.accr.api.AccrException;
import dev.accr.api.BulkReader;
import dev.accr.api.DeviceMemoryServer;
import dev.accr.kfd.driver.KfdCriu;
import dev.accr.kfd.driver.KfdDriver;
import dev.accr.kfd.driver.KfdCriu.VramExtent;
import dev.accr.kfd.driver.KfdProcess;
import dev.accr.kfd.driver.Vram;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The VRAM of a stopped process, served by chunk to the node it migrates to post-copy: the
 * chunks a dump would store in {@code vram-p<pid>-<gpu>} (keyed by GPU address, never crossing
 * a VRAM block), but only of blocks that have memory (the others are zeros on the target too), read
 * from VRAM when asked. The target's {@link LazyVram} loads them as from a local set.
 */
final class VramServer implements DeviceMemoryServer {
  private final KfdDriver driver;
  private final KfdProcess kfd;
  /** The name the chunks have: that of a dump of the process (see {@link VramFiles}). */
  private final String what;
  private final List<BulkFile> files = new ArrayList<>();
  /** gpu id -> chunk key -> piece. */
  private final Map<Integer, Map<Long, VramPieces.Piece>> pieces = new HashMap<>();

  private VramServer(KfdDriver driver, KfdProcess kfd) {
    this.driver = driver;
    this.kfd = kfd;
    this.what = VramFiles.forDump(kfd.pid()).what(false);
    List<VramExtent> extents = KfdCriu.vramExtents(kfd);
    for (int gpuId : new TreeSet<>(extents.stream().map(VramExtent::gpuId).toList())) {
      VramPieces all = VramPieces.of(gpuId, extents.stream().filter(e -> e.gpuId() == gpuId)
          .toList(), CopyMode.DMA);
      Map<Long, VramPieces.Piece> byKey = new HashMap<>();
      List<BulkReader.Chunk> chunks = new ArrayList<>();
      // In VRAM order: the order in which the target's pusher loads blocks, and reads ahead.
      List<VramPieces.Piece> inOrder = new ArrayList<>(all.dma());
      inOrder.sort(java.util.Comparator.comparingLong(VramPieces.Piece::vramOffset));
      for (VramPieces.Piece p : inOrder) {
        Vram vram = p.extent().gpu().vram();
        if (vram.present((int) (p.vramOffset() / Vram.BLOCK))) {
          byKey.put(p.va(), p);
          chunks.add(new BulkReader.Chunk(p.va(), p.length()));
        }
      }
      pieces.put(gpuId, byKey);
      files.add(new BulkFile(what, gpuId, chunks));
    }
  }

  /** The server of {@code kfd}'s VRAM (of the stopped process), found through {@code driver}. */
  static VramServer of(KfdDriver driver, KfdProcess kfd) {
    return new VramServer(driver, kfd);
  }

  @Override
  public List<BulkFile> files() {
    return files;
  }

  @Override
  public void read(String what, long id, BulkReader.Chunk chunk, MemorySegment into) {
    Map<Long, VramPieces.Piece> gpu = what.equals(this.what) ? pieces.get((int) id) : null;
    VramPieces.Piece p = gpu == null ? null : gpu.get(chunk.key());
    if (p == null || p.length() != chunk.length()) {
      throw AccrException.usage("kfd: no VRAM chunk at va 0x%x of %d bytes on gpu 0x%x",
          chunk.key(), chunk.length(), id);
    }
    if (driver.process(kfd.pid()) != kfd) {
      throw AccrException.failed("kfd: process %d is gone: its VRAM with it", kfd.pid());
    }
    p.extent().gpu().vram().copyOut(p.vramOffset(), into, 0, p.length());
  }

  /**
   * Nothing is served any more: the process's queues, paused since the dump, resume, as the
   * process either runs on here (the migration failed) or is killed next.
   */
  @Override
  public void close() {
    if (driver.process(kfd.pid()) == kfd) {
      KfdCriu.resume(kfd);
    }
  }
}
