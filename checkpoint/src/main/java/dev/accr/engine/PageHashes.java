package dev.accr.engine;

import dev.accr.api.CorruptImageException;
import dev.accr.api.MemoryView;
import dev.accr.image.BulkFileReader;
import dev.accr.image.CheckpointId;
import dev.accr.image.ChunkCodec;
import dev.accr.image.ChunkFileReader;
import dev.accr.image.Compression;
import dev.accr.image.ImageKind;
import dev.accr.proto.PageChunkEntry;
import dev.accr.proto.PageRun;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

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
                out.put(run.getVaddr() + (long) i * PAGE, hash(pages.asSlice(index * PAGE, PAGE)));
              }
            }
          }
        }
      }
    }
    return out;
  }

  /** The stored pages of a plugin's bulk data {@code what}/{@code n}, by key plus offset. */
  public static TreeMap<Long, Long> plugin(Path dir, CheckpointId id, String plugin,
      String what, long n) throws IOException {
    Map<Long, Long> out = new ConcurrentHashMap<>();
    try (BulkFileReader reader = BulkFileReader.open(dir, plugin, what, n, id)) {
      reader.forEach(1, (key, data) -> {
        for (long at = 0; at < data.byteSize(); at += PAGE) {
          out.put(key + at, hash(data.asSlice(at, Math.min(PAGE, data.byteSize() - at))));
        }
      });
    }
    return new TreeMap<>(out);
  }

  private static long hash(MemorySegment page) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(page.asByteBuffer());
      return MemorySegment.ofArray(sha.digest()).get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}
