package dev.accr.kfd.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrPlugin;
import dev.accr.api.MappingPolicy;
import dev.accr.api.NodeContext;
import dev.accr.api.PluginContext;
import dev.accr.api.PluginImages;
import dev.accr.engine.DumpOptions;
import dev.accr.engine.Dumper;
import dev.accr.engine.ImageSet;
import dev.accr.engine.RestoreOptions;
import dev.accr.engine.Restorer;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.kfd.KfdNodes;
import dev.accr.kfd.driver.KfdCriu.VramExtent;
import dev.accr.kfd.driver.KfdDriver;
import dev.accr.kfd.driver.Vram;
import dev.accr.kfd.proto.KfdSvmRangeEntry;
import dev.accr.plugin.SetImages;
import dev.accr.proto.BytesMovedEntry;
import dev.accr.proto.ImageFileRef;
import dev.accr.testkit.Scenarios;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Chains whose later links rewrite all (kfd-train, with VRAM-resident SVM pages), part
 * (fine-tuning: pieces of older links partly covered by newer ones) or a changing set of
 * buffers (kfd-serve's KV segments, freed and allocated between links) of the VRAM: {@link
 * VramRestorer#restoreChain}, newest link first, leaves the VRAM byte for byte as applying the
 * links oldest first does, by DMA, by the CPU or both, from the images or on top of the oldest
 * links already in VRAM (a pre-copy stage); no byte is copied twice, and a chain whose newest
 * link rewrote everything reads no older link.
 */
class RewrittenChainRestoreTest {
  private static final int LINKS = 4;
  private static final List<String> TRAIN = List.of("--gpus", "2", "--vram-mib", "4",
      "--steps", "16", "--seed", "3", "--gpu-us-per-wg", "1");
  private static final Map<String, List<Path>> CHAINS = new ConcurrentHashMap<>();
  @TempDir static Path shared;
  @TempDir Path tmp;

  static Stream<Arguments> cases() {
    List<String> fineTune = new ArrayList<>(TRAIN);
    fineTune.addAll(List.of("--trainable-fraction", "0.3"));
    List<String> serve = List.of("--gpus", "2", "--weights-mib", "2", "--kv-mib", "6",
        "--requests", "6", "--steps", "16", "--seed", "4", "--gpu-us-per-wg", "1");
    return Stream.of(
        Arguments.of("kfd-train", TRAIN, CopyMode.DMA, 0),
        Arguments.of("kfd-train", TRAIN, CopyMode.CPU, 0),
        Arguments.of("kfd-train", TRAIN, CopyMode.AUTO, 2),
        Arguments.of("kfd-train", fineTune, CopyMode.DMA, 0),
        Arguments.of("kfd-train", fineTune, CopyMode.AUTO, 1),
        Arguments.of("kfd-serve", serve, CopyMode.DMA, 0),
        Arguments.of("kfd-serve", serve, CopyMode.AUTO, 3));
  }

  @ParameterizedTest(name = "{0} {1} vram-copy={2} staged={3}")
  @MethodSource("cases")
  void restoresAsTheLinksAppliedOldestFirst(String workload, List<String> args, CopyMode mode,
      int staged) throws Exception {
    Path last = chain(workload, args).getLast();
    PluginImages images = SetImages.reader("kfd", last, ImageSet.read(last).id());
    long pid = images.entryIds("bos").getFirst();
    List<PluginImages> links = FoldedVram.chain(images, pid);
    assertEquals(LINKS, links.size());
    if (workload.equals("kfd-train")) {
      assertTrue(hasVramSvmPages(images, pid), "VRAM-resident SVM pages are restored too");
    }
    try (Node b = KfdNodes.node("b", "mi100x2"); Arena arena = Arena.ofShared()) {
      List<VramExtent> extents = place(KfdNodes.kfd(b), images, pid, mode);
      // The stage: the oldest links applied by the reference, in VRAM before the restore.
      Map<VramExtent, MemorySegment> stage = oldestFirst(links, LINKS - staged, pid, extents,
          arena);
      stage.forEach((e, data) -> e.gpu().vram().copyIn(data, 0, e.vramOffset(), e.length()));
      AtomicLong copied = new AtomicLong();
      new VramRestorer(context(images, copied), mode).restoreChain((int) pid,
          FoldedVram.gpuIds(images, pid), extents, staged);
      Map<VramExtent, MemorySegment> expected = oldestFirst(links, 0, pid, extents, arena);
      long total = 0;
      for (VramExtent e : extents) {
        MemorySegment restored = arena.allocate(e.length());
        e.gpu().vram().copyOut(e.vramOffset(), restored, 0, e.length());
        long at = restored.mismatch(expected.get(e));
        assertEquals(-1, at, String.format("gpu 0x%x va 0x%x differs at byte %d", e.gpuId(),
            e.va(), at));
        total += e.length();
      }
      assertTrue(copied.get() > 0 && copied.get() <= total,
          "no byte copied twice: " + copied + " bytes copied into " + total);
    }
  }

  /**
   * Restored through the plugin, a kfd-train chain (every step rewrites all of its VRAM)
   * reads only its newest link's VRAM, and the process ends as an uninterrupted run does.
   */
  @Test
  void aChainRewrittenWholeReadsOnlyItsNewestLink() throws Exception {
    String expected;
    try (Node u = KfdNodes.node("u", "mi100x2")) {
      expected = Scenarios.uninterrupted(u, "kfd-train", TRAIN, tmp);
    }
    List<Path> links = chain("kfd-train", TRAIN);
    try (Node b = KfdNodes.node("b", "mi100x2")) {
      Restorer.Result r = new Restorer(b, Scenarios.plugins(b)).restore(links.getLast(),
          RestoreOptions.defaults().withThreads(2).withStart(RestoreOptions.Start.INLINE),
          ProgressListener.NONE);
      long read = r.stats().getMovedList().stream().filter(m -> m.getSource().equals("kfd"))
          .mapToLong(BytesMovedEntry::getBytesRead).sum();
      long newest = vramBytes(links.getLast());
      long all = 0;
      for (Path l : links) {
        all += vramBytes(l);
      }
      assertTrue(read <= newest + (newest >> 3), "VRAM read: " + read + " bytes; the newest"
          + " link stores " + newest + ", the chain " + all);
      assertEquals(expected, Scenarios.finish(b, r.process()));
      assertEquals(0, KfdNodes.kfd(b).allocatedVramBytes(), "every VRAM block freed");
    }
  }

  /**
   * A pre-dump, dumps that leave the process running, a last dump, more steps apart each
   * time (buffers come and go in between); dumped once per workload and arguments.
   */
  private static List<Path> chain(String workload, List<String> args) {
    return CHAINS.computeIfAbsent(workload + args, k -> {
      Path dir = shared.resolve("chain" + CHAINS.size());
      List<Path> links = new ArrayList<>();
      try (Node a = KfdNodes.node("a", "mi100x2")) {
        java.nio.file.Files.createDirectories(dir);
        SimProcess p = a.create(workload, args, dir, 0);
        for (int i = 0; i < LINKS; i++) {
          Scenarios.step(p, i + 1);
          Path link = dir.resolve("link" + i);
          Dumper d = new Dumper(a, Scenarios.plugins(a)).withParent(i == 0 ? null
              : links.getLast(), UnaryOperator.identity());
          if (i == 0) {
            d.preDump(p.pid(), link, DumpOptions.defaults().withThreads(2),
                ProgressListener.NONE);
          } else {
            d.dump(p.pid(), link, DumpOptions.defaults().withLeaveRunning(i < LINKS - 1),
                ProgressListener.NONE);
          }
          links.add(link);
        }
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
      return links;
    });
  }

  /**
   * The VRAM extents of the newest link laid out on the GPUs of the same ids, each at a block
   * boundary in the CPU-visible window; with {@link CopyMode#AUTO} every other one reachable
   * by the CPU.
   */
  private static List<VramExtent> place(KfdDriver kfd, PluginImages last, long pid,
      CopyMode mode) {
    List<VramExtent> out = new ArrayList<>();
    Map<Integer, Long> next = new TreeMap<>();
    FoldedVram.forEachExtent(last, pid, (gpuId, va, length, base) -> {
      long offset = next.getOrDefault(gpuId, 0L);
      next.put(gpuId, offset + (length + Vram.BLOCK - 1) / Vram.BLOCK * Vram.BLOCK);
      boolean cpu = mode == CopyMode.CPU || (mode == CopyMode.AUTO && out.size() % 2 == 0);
      out.add(new VramExtent(gpuId, kfd.gpu(gpuId), va, offset, length, cpu));
    });
    return out;
  }

  /**
   * The restore as it was: the links from {@code newest} to the chain's start applied oldest
   * first, each zeroing its written ranges (but the chain's full first link) and copying its
   * stored pieces, clipped to the extents. Returns each extent's bytes.
   */
  private static Map<VramExtent, MemorySegment> oldestFirst(List<PluginImages> links,
      int newest, long pid, List<VramExtent> extents, Arena arena) {
    Map<VramExtent, MemorySegment> out = new java.util.LinkedHashMap<>();
    for (VramExtent e : extents) {
      out.put(e, arena.allocate(e.length())); // zeroed
    }
    for (int i = links.size() - 1; i >= newest; i--) {
      PluginImages l = links.get(i);
      if (i < links.size() - 1) {
        for (StoredVram.Written w : StoredVram.written(l, pid)) {
          overlap(out, w.gpuId(), w.va(), w.length(), (data, at, from, n) ->
              data.asSlice(at, n).fill((byte) 0));
        }
      }
      Map<Integer, PackedRuns> packed = StoredVram.packed(l, pid);
      for (int gpuId : FoldedVram.gpuIds(l, pid)) {
        try (StoredVram stored = StoredVram.open(l, pid, gpuId, packed)) {
          stored.forEach(1, (pieces, chunk) -> {
            for (StoredVram.Piece p : pieces) {
              overlap(out, gpuId, p.va(), p.length(), (data, at, from, n) ->
                  MemorySegment.copy(chunk, p.offset() + (from - p.va()), data, at, n));
            }
          });
        }
      }
    }
    return out;
  }

  @FunctionalInterface
  private interface Part {
    void accept(MemorySegment data, long at, long va, long length);
  }

  private static void overlap(Map<VramExtent, MemorySegment> extents, int gpuId, long va,
      long length, Part part) {
    extents.forEach((e, data) -> {
      long from = Math.max(va, e.va());
      long to = Math.min(va + length, e.va() + e.length());
      if (e.gpuId() == gpuId && to > from) {
        part.accept(data, from - e.va(), from, to - from);
      }
    });
  }

  private static boolean hasVramSvmPages(PluginImages images, long pid) {
    return images.hasEntries("svm", pid) && images.readEntries("svm", pid,
        KfdSvmRangeEntry.parser()).stream().flatMap(r -> r.getResidencyList().stream())
        .anyMatch(run -> run.getLocation() != 0);
  }

  /** What {@link VramRestorer} asks of its context: the images, and where it is. */
  private static PluginContext context(PluginImages images, AtomicLong copied) {
    return new PluginContext() {
      @Override
      public AccrPlugin.Stage stage() {
        return AccrPlugin.Stage.RESTORE;
      }

      @Override
      public NodeContext node() {
        throw new UnsupportedOperationException();
      }

      @Override
      public PluginImages images() {
        return images;
      }

      @Override
      public String option(String name, String fallback) {
        return fallback;
      }

      @Override
      public MappingPolicy mappingPolicy() {
        throw new UnsupportedOperationException();
      }

      @Override
      public boolean leaveRunning() {
        return false;
      }

      @Override
      public void progress(String phase, long done, long total) {
        copied.accumulateAndGet(done, Math::max);
      }

      @Override
      public void attach(Object state) {
        throw new UnsupportedOperationException();
      }

      @Override
      public <T> T attachment(Class<T> type) {
        return null;
      }
    };
  }

  private static long vramBytes(Path dir) throws Exception {
    return ImageSet.read(dir).inventory().getFilesList().stream()
        .filter(f -> f.getName().startsWith("kfd-vram-") && f.getName().contains(".pages"))
        .mapToLong(ImageFileRef::getSize).sum();
  }
}
