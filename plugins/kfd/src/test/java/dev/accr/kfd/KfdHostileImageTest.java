package dev.accr.kfd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.MessageLite;
import dev.accr.api.AccrException;
import dev.accr.api.CorruptImageException;
import dev.accr.engine.DumpOptions;
import dev.accr.engine.Dumper;
import dev.accr.image.ProgressListener;
import dev.accr.image.EntryImage;
import dev.accr.image.EntryImageCodec;
import dev.accr.image.ImageKind;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.kfd.proto.BoDomain;
import dev.accr.kfd.proto.KfdBoEntry;
import dev.accr.kfd.proto.KfdEventEntry;
import dev.accr.kfd.proto.KfdSvmRangeEntry;
import dev.accr.proto.PluginChunkEntry;
import dev.accr.proto.PluginPagemapHead;
import dev.accr.testkit.ImageDamage;
import dev.accr.testkit.Scenarios;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile but correctly framed kfd images (each entry file rewritten with the set's id and its
 * inventory size): overlapping buffers or SVM ranges, spent event signals and a chunk in a
 * lane that does not exist. Each restore fails with exit code 3 naming the file that holds the
 * bad value, and leaves no process, KFD state or VRAM behind.
 */
class KfdHostileImageTest {
  private static final List<String> ARGS = List.of("--gpus", "1", "--vram-kib", "512",
      "--steps", "20", "--seed", "7");
  private static final int STEPS_BEFORE_DUMP = 4;

  @TempDir static Path shared;
  @TempDir Path tmp;
  private static Path original;

  @BeforeAll
  static void dumpOnce() throws Exception {
    original = shared.resolve("set");
    try (Node a = KfdNodes.node("a", "mi100x2")) {
      SimProcess p = a.create("kfd-train", ARGS, shared, 0);
      Scenarios.step(p, STEPS_BEFORE_DUMP);
      Scenarios.dump(a, p, original, DumpOptions.defaults());
    }
  }

  private Path copy() throws Exception {
    return copy("set");
  }

  private Path copy(String name) throws Exception {
    Path dir = tmp.resolve(name);
    Files.createDirectories(dir);
    try (Stream<Path> files = Files.list(original)) {
      for (Path f : files.toList()) {
        Files.copy(f, dir.resolve(f.getFileName()));
      }
    }
    return dir;
  }

  private static void assertRefused(Path dir, String file, String... mustContain)
      throws Exception {
    try (Node b = KfdNodes.node("b", "mi100x2")) {
      AccrException e = ImageDamage.assertFails(AccrException.CORRUPT, file, file,
          () -> Scenarios.restore(b, dir));
      assertTrue(e instanceof CorruptImageException c && c.file().endsWith(file), e.toString());
      for (String s : mustContain) {
        assertTrue(e.getMessage().contains(s), e.getMessage());
      }
      assertTrue(b.processes().isEmpty());
      assertEquals(0, KfdNodes.kfd(b).processCount());
      assertEquals(0, KfdNodes.kfd(b).allocatedVramBytes(), "no VRAM is left allocated");
    }
  }

  @Test
  void overlappingBuffersNameTheBuffersFileAndBothRanges() throws Exception {
    Path dir = copy();
    String name = KfdImages.fileMatching(dir, "kfd-bos-\\d+\\.img");
    List<KfdBoEntry> bos = new ArrayList<>(KfdImages.read(dir, name, KfdBoEntry.parser()));
    List<Integer> vram = new ArrayList<>();
    for (int i = 0; i < bos.size(); i++) {
      if (bos.get(i).getDomain() == BoDomain.VRAM && bos.get(i).getSize() > 4096) {
        vram.add(i);
      }
    }
    KfdBoEntry first = bos.get(vram.get(0));
    long into = first.getGpuVa() + 4096; // the second buffer now starts inside the first
    bos.set(vram.get(1), bos.get(vram.get(1)).toBuilder().setGpuVa(into).build());
    KfdImages.rewrite(dir, name, bos);
    assertRefused(dir, name, String.format("overlaps buffer 0x%x-0x%x", first.getGpuVa(),
        first.getGpuVa() + first.getSize()));
  }

  @Test
  void aBufferOutsideVramMarkedAsADmaBufIsRefused() throws Exception {
    Path dir = copy();
    String name = KfdImages.fileMatching(dir, "kfd-bos-\\d+\\.img");
    List<KfdBoEntry> bos = new ArrayList<>(KfdImages.read(dir, name, KfdBoEntry.parser()));
    int gtt = 0;
    while (bos.get(gtt).getDomain() == BoDomain.VRAM) {
      gtt++;
    }
    bos.set(gtt, bos.get(gtt).toBuilder().setDmabufId(1).build());
    KfdImages.rewrite(dir, name, bos);
    assertRefused(dir, name, "shared as dma-buf 1 but not a VRAM buffer");
  }

  @Test
  void aBufferThatKeepsAFreedDmaBufMustBeAnImport() throws Exception {
    Path dir = copy();
    String name = KfdImages.fileMatching(dir, "kfd-bos-\\d+\\.img");
    List<KfdBoEntry> bos = new ArrayList<>(KfdImages.read(dir, name, KfdBoEntry.parser()));
    bos.set(0, bos.get(0).toBuilder().setKeepsMemory(true).build());
    KfdImages.rewrite(dir, name, bos);
    assertRefused(dir, name, "keeps a freed dma-buf's memory but is not an import");
  }

  @Test
  void overlappingSvmRangesNameTheSvmFile() throws Exception {
    Path dir = copy();
    String name = KfdImages.fileMatching(dir, "kfd-svm-\\d+\\.img");
    List<KfdSvmRangeEntry> ranges = new ArrayList<>(KfdImages.read(dir, name,
        KfdSvmRangeEntry.parser()));
    long start = ranges.get(0).getStart();
    ranges.set(1, ranges.get(1).toBuilder().setStart(start).build());
    KfdImages.rewrite(dir, name, ranges);
    assertRefused(dir, name, String.format("SVM range 0x%x-", start), "overlaps SVM range");
  }

  @Test
  void eventsSetBelowWhatTheStepsWaitForAreRefused() throws Exception {
    Path dir = copy();
    String name = KfdImages.fileMatching(dir, "kfd-events-\\d+\\.img");
    // Signals already spent: counts the program could have seen, but not all it waits for.
    KfdImages.rewrite(dir, name, KfdImages.read(dir, name, KfdEventEntry.parser()).stream()
        .map(e -> e.toBuilder().setSignalCount(0).build()).toList());
    assertRefused(dir, name, STEPS_BEFORE_DUMP + " steps wait for");
  }

  @Test
  void chunkInALaneBeyondTheFilesNamesThePagemap() throws Exception {
    for (int lane : new int[] {-1, Integer.MAX_VALUE}) {
      Path dir = copy("set" + lane);
      String name = KfdImages.fileMatching(dir, "kfd-vram-p\\d+-\\d+\\.pagemap\\.img");
      EntryImage pagemap = EntryImageCodec.read(dir.resolve(name), ImageKind.PLUGIN_PAGEMAP,
          null);
      List<MessageLite> entries = new ArrayList<>();
      entries.add(pagemap.parse(PluginPagemapHead.parser(), 0));
      List<PluginChunkEntry> chunks = pagemap.parseRange(PluginChunkEntry.parser(), 1,
          pagemap.entries().size());
      entries.add(chunks.getFirst().toBuilder().setLane(lane).build());
      entries.addAll(chunks.subList(1, chunks.size()));
      KfdImages.rewrite(dir, name, ImageKind.PLUGIN_PAGEMAP, entries);
      assertRefused(dir, name, "lane " + Integer.toUnsignedString(lane));
    }
  }

  /**
   * A parent link's chunk whose end wraps round the address space: refused as corrupt,
   * naming the parent's pagemap, not clipped to the buffers (nor an internal error).
   */
  @Test
  void aParentChunkThatWrapsRoundIsRefused() throws Exception {
    Path parent = tmp.resolve("parent");
    Path child = tmp.resolve("child");
    try (Node a = KfdNodes.node("a", "mi100x2")) {
      SimProcess p = a.create("kfd-train", ARGS, tmp, 0);
      Scenarios.step(p, 2);
      new Dumper(a, Scenarios.plugins(a)).preDump(p.pid(), parent, DumpOptions.defaults(),
          ProgressListener.NONE);
      Scenarios.step(p, 1);
      new Dumper(a, Scenarios.plugins(a)).withParent(parent, UnaryOperator.identity())
          .dump(p.pid(), child, DumpOptions.defaults(), ProgressListener.NONE);
    }
    String name = KfdImages.fileMatching(parent, "kfd-vram-p\\d+-\\d+\\.pagemap\\.img");
    EntryImage pagemap = EntryImageCodec.read(parent.resolve(name), ImageKind.PLUGIN_PAGEMAP,
        null);
    List<MessageLite> entries = new ArrayList<>();
    entries.add(pagemap.parse(PluginPagemapHead.parser(), 0));
    List<PluginChunkEntry> chunks = pagemap.parseRange(PluginChunkEntry.parser(), 1,
        pagemap.entries().size());
    entries.add(chunks.getFirst().toBuilder().setKey(Long.MAX_VALUE - 1).build());
    entries.addAll(chunks.subList(1, chunks.size()));
    KfdImages.rewrite(parent, name, ImageKind.PLUGIN_PAGEMAP, entries);
    assertRefused(child, name, "wraps round");
  }
}
