package dev.accr.engine;

import dev.accr.api.CorruptImageException;
import dev.accr.api.MemoryView;
import dev.accr.api.PageDigests;
import dev.accr.image.ChunkCodec;
import dev.accr.image.ChunkFileReader;
import dev.accr.image.Compression;
import dev.accr.image.ImageKind;
import dev.accr.proto.PageChunkEntry;
import dev.accr.proto.PageRun;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A hash of every stored page of an image set, by address: what {@code accr diff} compares
 * to count the pages that changed between two checkpoints. Reading checks every checksum.
 */
public final class PageHashes {
  private static final int PAGE = MemoryView.PAGE_SIZE;

  private PageHashes() {}

  /** The stored pages of process {@code pid}, by virtual address. */
  public static TreeMap<Long, Long> host(ImageSet set, int pid) throws IOException {
    List<PageChunkEntry> chunks = set.processes().get(pid).chunks();
    Map<Integer, Map<Long, PageChunkEntry>> byFile = new HashMap<>();
    for (PageChunkEntry c : chunks) {
      byFile.computeIfAbsent(c.getPagesFile(), n -> new HashMap<>()).put(c.getFileOffset(), c);
    }
    TreeMap<Long, Long> out = new TreeMap<>();
    ByteBuffer stored = ByteBuffer.allocateDirect(ChunkFileReader.MAX_RAW_LENGTH);
    ByteBuffer scratch = ByteBuffer.allocateDirect(ChunkFileReader.MAX_RAW_LENGTH);
    try (ChunkCodec codec = new ChunkCodec(Compression.NONE)) {
      for (var file : byFile.entrySet()) {
        Path path = set.dir().resolve(ImageKind.PAGES.fileName(file.getKey()));
        try (ChunkFileReader reader = ChunkFileReader.open(path, set.id())) {
          for (ChunkFileReader.Chunk c; (c = reader.next(stored)) != null; ) {
            PageChunkEntry entry = file.getValue().get(c.offset());
            if (entry == null) {
              continue; // a chunk of another process
            }
            ByteBuffer raw = codec.decode(c.codec(), stored, c.rawLength(), scratch,
                reader.file(), c.offset());
            MemorySegment pages = MemorySegment.ofBuffer(raw);
            long index = 0;
            for (PageRun run : entry.getRunsList()) {
              for (int i = 0; i < run.getNrPages(); i++, index++) {
                if ((index + 1) * PAGE > pages.byteSize()) {
                  throw new CorruptImageException(reader.file(), "chunk at offset " + c.offset()
                      + " is shorter than the pages its pagemap entry lists");
                }
                out.put(run.getVaddr() + (long) i * PAGE,
                    PageDigests.digest(pages.asSlice(index * PAGE, PAGE)));
              }
            }
          }
        }
      }
    }
    return out;
  }

  /**
   * The pages of process {@code pid} as the chain holds them (each from the newest link that
   * stores it or declares it zero), by virtual address; only the pages the links store are
   * read, nothing is restored.
   */
  public static TreeMap<Long, Long> host(ImageChain chain, int pid) throws IOException {
    List<ImageSet> links = chain.links();
    TreeMap<Long, Long> out = new TreeMap<>();
    for (int i = links.size() - 1; i >= 0; i--) {
      ImageSet link = links.get(i);
      if (!link.processes().containsKey(pid)) {
        continue; // forked since that link
      }
      for (PageRun r : link.processes().get(pid).zeroRuns()) {
        out.subMap(r.getVaddr(), r.getVaddr() + Integer.toUnsignedLong(r.getNrPages()) * PAGE)
            .clear();
      }
      out.putAll(host(link, pid));
    }
    TreeMap<Long, Long> mapped = new TreeMap<>();
    for (dev.accr.proto.VmaEntry v : chain.last().processes().get(pid).mm().getVmasList()) {
      if (v.getKind() != dev.accr.proto.VmaKind.VMA_DEVICE) {
        mapped.putAll(out.subMap(v.getStart(), v.getStart() + v.getLength()));
      }
    }
    return mapped;
  }
}
