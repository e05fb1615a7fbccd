package dev.accr.engine;

import dev.accr.image.ProgressListener;
import dev.accr.api.CorruptImageException;
import dev.accr.api.MemoryView;
import dev.accr.image.ChunkCodec;
import dev.accr.image.ChunkFileReader;
import dev.accr.image.Compression;
import dev.accr.proto.PageChunkEntry;
import dev.accr.proto.PageRun;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import java.nio.file.Files;
import java.nio.file.Path;
import dev.accr.image.ImageKind;

/**
 * Reads every {@code pages-<n>.img} of a set, one file per worker thread, verifying each
 * chunk and each file's footer, matching chunks to the pagemap entries that refer to them,
 * and handing each page to a {@link PageSink}.
 */
final class PageLoader {
  private static final int PAGE = MemoryView.PAGE_SIZE;

  /** Where restored pages go. */
  interface PageSink {
    /** Stores {@code pages} pages read from {@code source} at {@code vaddr} of process {@code pid}. */
    void write(int pid, long vaddr, MemorySegment source, long sourceOffset, int pages);
  }

  /** A sink that keeps nothing: the data is only verified. */
  static final PageSink VERIFY_ONLY = null;

  private record Ref(int pid, PageChunkEntry entry) {}

  private final ImageSet set;
  private final int threads;
  private final ProgressListener progress;

  PageLoader(ImageSet set, int threads, ProgressListener progress) {
    this.set = set;
    this.threads = threads;
    this.progress = progress;
  }

  /** Loads all pages into {@code sink} (or only verifies them); returns bytes read. */
  long load(PageSink sink) throws IOException {
    Map<Integer, Map<Long, Ref>> byFile = new HashMap<>();
    long totalPages = 0;
    for (var e : set.processes().entrySet()) {
      for (PageChunkEntry c : e.getValue().chunks()) {
        Ref previous = byFile.computeIfAbsent(c.getPagesFile(), k -> new HashMap<>())
            .put(c.getFileOffset(), new Ref(e.getKey(), c));
        if (previous != null) {
          throw new CorruptImageException(set.dir().resolve("pagemap-" + e.getKey() + ".img")
              .toString(), "two chunks at offset " + c.getFileOffset() + " of pages-"
              + c.getPagesFile() + ".img");
        }
        totalPages += c.getRunsList().stream().mapToLong(PageRun::getNrPages).sum();
      }
    }
    List<Integer> files = new ArrayList<>(set.pagesFiles());
    AtomicLong pagesDone = new AtomicLong();
    AtomicLong bytesRead = new AtomicLong();
    long total = totalPages;
    AtomicLong nextFile = new AtomicLong();
    int bufferSize = byFile.values().stream().flatMap(m -> m.values().stream())
        .mapToInt(r -> r.entry().getRunsList().stream().mapToInt(PageRun::getNrPages).sum() * PAGE)
        .max().orElse(PAGE);
    Parallel.run(Math.max(1, Math.min(threads, files.size())), w -> {
      // Sized by the largest chunk the pagemaps announce; the reader refuses larger ones.
      ByteBuffer stored = ByteBuffer.allocateDirect(bufferSize);
      ByteBuffer raw = ByteBuffer.allocateDirect(bufferSize);
      MemorySegment rawSegment = MemorySegment.ofBuffer(raw);
      MemorySegment storedSegment = MemorySegment.ofBuffer(stored);
      try (ChunkCodec codec = new ChunkCodec(Compression.NONE)) {
        for (int f; (f = (int) nextFile.getAndIncrement()) < files.size(); ) {
          int n = files.get(f);
          Map<Long, Ref> expected = byFile.getOrDefault(n, Map.of());
          bytesRead.addAndGet(loadFile(n, expected, stored, raw, rawSegment, storedSegment, codec, sink,
              pages -> progress.progress("memory", pagesDone.addAndGet(pages) * PAGE,
                  total * PAGE)));
        }
      }
    });
    return bytesRead.get();
  }

  private long loadFile(int n, Map<Long, Ref> expected, ByteBuffer stored, ByteBuffer raw,
      MemorySegment rawSegment, MemorySegment storedSegment, ChunkCodec codec, PageSink sink,
      LongConsumer pagesDone) throws IOException {
    Path path = set.dir().resolve(ImageKind.PAGES.fileName(n));
    int seen = 0;
    try (ChunkFileReader reader = ChunkFileReader.open(path, set.id())) {
      for (ChunkFileReader.Chunk chunk; (chunk = reader.next(stored)) != null; ) {
        Ref ref = expected.get(chunk.offset());
        if (ref == null) {
          throw new CorruptImageException(reader.file(), "chunk at offset " + chunk.offset()
              + " is not in any pagemap");
        }
        PageChunkEntry entry = ref.entry();
        long pages = entry.getRunsList().stream().mapToLong(PageRun::getNrPages).sum();
        if (chunk.storedLength() != entry.getStoredLength() || chunk.rawLength() != pages * PAGE) {
          throw new CorruptImageException(reader.file(), "chunk at offset " + chunk.offset()
              + ": lengths raw=" + chunk.rawLength() + " stored=" + chunk.storedLength()
              + " expected raw=" + pages * PAGE + " stored=" + entry.getStoredLength());
        }
        seen++;
        ByteBuffer data = codec.decode(chunk.codec(), stored, chunk.rawLength(), raw,
            reader.file(), chunk.offset());
        if (sink != VERIFY_ONLY) {
          MemorySegment source = data == raw ? rawSegment : storedSegment;
          long at = 0;
          for (PageRun run : entry.getRunsList()) {
            sink.write(ref.pid(), run.getVaddr(), source, at, run.getNrPages());
            at += (long) run.getNrPages() * PAGE;
          }
        }
        pagesDone.accept(pages);
      }
      if (seen != expected.size()) {
        throw new CorruptImageException(reader.file(), "chunks: actual=" + seen
            + " expected=" + expected.size() + " (pagemap refers to chunks the file lacks)");
      }
    }
    return Files.size(path);
  }
}
