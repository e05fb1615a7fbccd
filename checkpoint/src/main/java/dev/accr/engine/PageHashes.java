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
}
