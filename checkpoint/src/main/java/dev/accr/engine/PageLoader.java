package dev.accr.engine;

import dev.accr.image.ProgressListener;
import dev.accr.api.CorruptImageException;
import dev.accr.api.MemoryView;
import dev.accr.image.ChunkCodec;
import dev.accr.image.ChunkFileReader;
import dev.accr.image.Compression;
import dev.accr.kernel.BufferBudget;
import dev.accr.proto.PageChunkEntry;
import dev.accr.proto.PageRun;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.LongConsumer;
import java.nio.file.Files;
import java.nio.file.Path;
import dev.accr.image.ImageKind;

/**
 * Reads every {@code pages-<n>.img} of a set, one file per worker thread, verifying each
 * chunk and each file's footer, matching chunks to the pagemap entries that refer to them,
 * and handing each page to a {@link PageSink}. Where the sink offers fresh frames, an
 * uncompressed chunk is read straight into them and a compressed one decompressed into them:
 * each byte is copied once, by the read or the decompression, and checked while it is hot.
 * Its buffers are one grant of the node's {@link BufferBudget}: with less granted, fewer
 * files are read at once.
 */
final class PageLoader {
  private static final int PAGE = MemoryView.PAGE_SIZE;

  /** Where restored pages go. */
  interface PageSink {
    /** Stores {@code pages} pages read from {@code source} at {@code vaddr} of process {@code pid}. */
    void write(int pid, long vaddr, MemorySegment source, long sourceOffset, int pages);

    /**
     * Fresh frames for the {@code pages} pages at {@code vaddr}, contiguous, for the loader to
     * read or decompress into directly; null when the sink wants the pages through {@link
     * #write}.
     */
    default MemorySegment fresh(int pid, long vaddr, int pages) {
      return null;
    }
  }

  /** A sink that keeps nothing: the data is only verified. */
  static final PageSink VERIFY_ONLY = null;

  private record Ref(int pid, PageChunkEntry entry) {}

  private final ImageSet set;
  private final int threads;
  private final ProgressListener progress;
  private final BufferBudget budget;
  private final BooleanSupplier cancelled;

  PageLoader(ImageSet set, int threads, ProgressListener progress) {
    this(set, threads, progress, BufferBudget.unlimited(), () -> false);
  }

  /** A loader taking its buffers from {@code budget}, giving up waiting when cancelled. */
  PageLoader(ImageSet set, int threads, ProgressListener progress, BufferBudget budget,
      BooleanSupplier cancelled) {
    this.set = set;
    this.threads = threads;
    this.progress = progress;
    this.budget = budget;
    this.cancelled = cancelled;
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
    int wanted = Math.max(1, Math.min(threads, files.size()));
    try (BufferBudget.Grant grant = budget.acquire(2L * bufferSize, 2L * bufferSize * wanted,
        cancelled)) {
      loadWith(Math.min(wanted, grant.buffers(2L * bufferSize)), bufferSize, files, byFile,
          nextFile, bytesRead, pagesDone, total, sink);
    }
    return bytesRead.get();
  }

  private void loadWith(int workers, int bufferSize, List<Integer> files,
      Map<Integer, Map<Long, Ref>> byFile, AtomicLong nextFile, AtomicLong bytesRead,
      AtomicLong pagesDone, long total, PageSink sink) throws IOException {
    // A failure stops the others: the counter of files hands out none after it.
    Parallel.run(workers, () -> nextFile.set(files.size()), w -> {
      // Sized by the largest chunk the pagemaps announce; the reader refuses larger ones.
      try (Arena arena = Arena.ofConfined();
          ChunkCodec codec = new ChunkCodec(Compression.NONE)) {
        Buffers buffers = new Buffers(arena, bufferSize);
        for (int f; (f = (int) nextFile.getAndIncrement()) < files.size(); ) {
          int n = files.get(f);
          Map<Long, Ref> expected = byFile.getOrDefault(n, Map.of());
          bytesRead.addAndGet(loadFile(n, expected, buffers, codec, sink,
              pages -> progress.progress("memory", pagesDone.addAndGet(pages) * PAGE,
                  total * PAGE)));
        }
      }
    });
  }

  /**
   * A worker's two buffers, made on first use: chunks read straight into fresh frames need
   * none, and untouched memory is costly to fault in on a busy machine.
   */
  private static final class Buffers {
    private final Arena arena;
    private final int size;
    private ByteBuffer stored;
    private ByteBuffer raw;

    Buffers(Arena arena, int size) {
      this.arena = arena;
      this.size = size;
    }

    ByteBuffer stored() {
      if (stored == null) {
        stored = arena.allocate(size).asByteBuffer();
      }
      return stored;
    }

    ByteBuffer raw() {
      if (raw == null) {
        raw = arena.allocate(size).asByteBuffer();
      }
      return raw;
    }
  }

  private long loadFile(int n, Map<Long, Ref> expected, Buffers buffers,
      ChunkCodec codec, PageSink sink,
      LongConsumer pagesDone) throws IOException {
    Path path = set.dir().resolve(ImageKind.PAGES.fileName(n));
    int seen = 0;
    try (ChunkFileReader reader = ChunkFileReader.open(path, set.id())) {
      for (ChunkFileReader.Chunk chunk; (chunk = reader.nextHeader()) != null; ) {
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
        load(reader, chunk, ref, buffers, codec, sink);
        pagesDone.accept(pages);
      }
      if (seen != expected.size()) {
        throw new CorruptImageException(reader.file(), "chunks: actual=" + seen
            + " expected=" + expected.size() + " (pagemap refers to chunks the file lacks)");
      }
    }
    return Files.size(path);
  }

  /** Reads one chunk whose header was read and checked, into its frames where it can. */
  private static void load(ChunkFileReader reader, ChunkFileReader.Chunk chunk, Ref ref,
      Buffers buffers, ChunkCodec codec, PageSink sink) throws IOException {
    List<PageRun> runs = ref.entry().getRunsList();
    MemorySegment[] targets = new MemorySegment[runs.size()];
    boolean allFresh = sink != VERIFY_ONLY;
    for (int i = 0; i < runs.size() && allFresh; i++) {
      targets[i] = sink.fresh(ref.pid(), runs.get(i).getVaddr(), runs.get(i).getNrPages());
      allFresh = targets[i] != null;
    }
    if (allFresh && chunk.codec() == Compression.Codec.NONE) {
      ByteBuffer[] into = new ByteBuffer[targets.length];
      for (int i = 0; i < targets.length; i++) {
        into[i] = targets[i].asByteBuffer();
      }
      reader.readPayload(chunk, into);
      return;
    }
    ByteBuffer stored = buffers.stored();
    if (chunk.storedLength() > stored.capacity()) {
      throw new CorruptImageException(reader.file(), "chunk at offset " + chunk.offset()
          + ": stored length " + chunk.storedLength()
          + " is larger than any chunk the pagemap announces");
    }
    reader.readPayload(chunk, stored.clear().limit(chunk.storedLength()));
    stored.flip();
    ByteBuffer raw = allFresh && targets.length == 1 ? null : buffers.raw();
    ByteBuffer into = raw == null ? targets[0].asByteBuffer() : raw;
    ByteBuffer data = codec.decode(chunk.codec(), stored, chunk.rawLength(), into,
        reader.file(), chunk.offset());
    if (data == into && into != raw) {
      return; // decompressed straight into the frames
    }
    if (sink == VERIFY_ONLY) {
      return;
    }
    MemorySegment source = MemorySegment.ofBuffer(data);
    long at = 0;
    for (int i = 0; i < runs.size(); i++) {
      PageRun run = runs.get(i);
      long length = (long) run.getNrPages() * PAGE;
      if (targets[i] != null) {
        MemorySegment.copy(source, at, targets[i], 0, length);
      } else {
        sink.write(ref.pid(), run.getVaddr(), source, at, run.getNrPages());
      }
      at += length;
    }
  }
}
