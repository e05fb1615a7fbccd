package dev.accr.kfd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.engine.DumpOptions;
import dev.accr.image.ChunkFileWriter;
import dev.accr.image.EntryImage;
import dev.accr.image.EntryImageCodec;
import dev.accr.image.ImageFraming;
import dev.accr.image.ImageKind;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.proto.PluginChunkEntry;
import dev.accr.proto.PluginPagemapHead;
import dev.accr.testkit.ImageDamage;
import dev.accr.testkit.Scenarios;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.io.TempDir;

/**
 * A VRAM pages file with one more chunk than its pagemap lists, correctly framed (file and
 * pagemap checksums and sizes recomputed): every restore refuses it with exit code 3 naming the
 * pages file, and leaves no process, KFD state or VRAM behind.
 */
class KfdVramChunkTest {
  private static final List<String> ARGS = List.of("--gpus", "2", "--vram-mib", "4", "--steps",
      "8", "--seed", "5", "--gpu-us-per-wg", "5");

  @TempDir Path tmp;

  @RepeatedTest(3)
  void unlistedChunkIsCorruptEveryTime() throws Exception {
    Path dir = tmp.resolve("set");
    try (Node a = KfdNodes.node("a", "mi100x2")) {
      SimProcess p = a.create("kfd-train", ARGS, tmp, 0);
      Scenarios.step(p, 3);
      Scenarios.dump(a, p, dir, DumpOptions.defaults());
    }
    String pages = appendUnlistedChunk(dir);
    try (Node b = KfdNodes.node("b", "mi100x2")) {
      ImageDamage.assertFails(AccrException.CORRUPT, pages, "unlisted chunk",
          () -> Scenarios.restore(b, dir));
      assertTrue(b.processes().isEmpty());
      assertEquals(0, KfdNodes.kfd(b).processCount());
      assertEquals(0, KfdNodes.kfd(b).allocatedVramBytes(), "no VRAM is left allocated");
    }
  }

  /** Appends a copy of the last listed chunk to a VRAM pages file; returns the file's name. */
  static String appendUnlistedChunk(Path dir) throws Exception {
    String pagemapName = KfdImages.fileMatching(dir, "kfd-vram-p\\d+-\\d+\\.pagemap\\.img");
    String pagesName = pagemapName.replace(".pagemap.img", ".pages.img");
    EntryImage pagemap = EntryImageCodec.read(dir.resolve(pagemapName),
        ImageKind.PLUGIN_PAGEMAP, null);
    PluginPagemapHead head = pagemap.parse(PluginPagemapHead.parser(), 0);
    List<PluginChunkEntry> chunks = pagemap.parseRange(PluginChunkEntry.parser(), 1,
        pagemap.entries().size());
    PluginChunkEntry last = chunks.stream().filter(c -> c.getLane() == 0)
        .reduce((x, y) -> y).orElseThrow();
    byte[] bytes = Files.readAllBytes(dir.resolve(pagesName));
    int at = Math.toIntExact(last.getFileOffset());
    int length = ChunkFileWriter.CHUNK_HEADER_LENGTH + last.getStoredLength();
    int footerAt = bytes.length - ImageFraming.FOOTER_LENGTH;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(bytes, 0, footerAt);
    out.write(bytes, at, length);
    out.write(new byte[ImageFraming.FOOTER_LENGTH]);
    byte[] changed = ImageDamage.reseal(out.toByteArray());
    KfdImages.replace(dir, pagesName, changed);
    List<com.google.protobuf.MessageLite> entries = new ArrayList<>();
    entries.add(head.toBuilder().setPagesFileSize(changed.length).build());
    entries.addAll(chunks);
    KfdImages.rewrite(dir, pagemapName, ImageKind.PLUGIN_PAGEMAP, entries);
    return pagesName;
  }
}
