package dev.accr.engine;

import dev.accr.image.ProgressListener;
import dev.accr.api.MemoryView;
import dev.accr.image.CheckpointId;
import dev.accr.image.ChunkCodec;
import dev.accr.image.ChunkFileWriter;
import dev.accr.image.Compression;
import dev.accr.image.ImageKind;
import dev.accr.image.ImageSink;
import dev.accr.kernel.AddressSpace;
import dev.accr.kernel.BufferBudget;
import dev.accr.kernel.Vma;
import dev.accr.proto.PageChunkEntry;
import dev.accr.proto.PageRun;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.IntFunction;
import java.util.function.Predicate;
import java.util.zip.CRC32C;

/**
 * Writes the touched pages of an address space as chunks into {@code pages-<n>.img} files,
 * one file per worker thread. Workers take chunks in address order from a shared {@link
 * PageCursor}, skip zero pages, compress, checksum and append, all in parallel. Uncompressed
 * pages in long runs go from their frames to the file in one gathering write, without a copy;
 * the scattered pages of an incremental dump are packed into a buffer first, one copy that
 * costs less than a piece of the write, and of its checksum, per page. Memory use is one
 * pagemap entry per chunk written and, when compressing or packing, one or two buffers per
 * worker taken as one grant of the node's {@link BufferBudget} (with less granted, fewer
 * workers and pages files are used), whatever the size of the process or of its mappings.
 */
final class PageDumper {
  private static final int PAGE = MemoryView.PAGE_SIZE;
  /**
   * The chunks that make another worker worth its fixed cost (a thread to start and schedule,
   * a pages file to create and sync, buffers): a short incremental dump is one worker's work.
   */
  private static final int CHUNKS_PER_WORKER = 8;

  /** What a page dump wrote. */
  record Result(List<PageChunkEntry> chunks, int pagesFiles, long pagesScanned, long zeroPages,
      long bytesWritten) {}

  private final DumpOptions options;
  private final CheckpointId id;
  private final ImageSink sink;
  private final ProgressListener progress;
  private final BufferBudget budget;
  private final BooleanSupplier cancelled;
  private final AtomicLong pagesDone = new AtomicLong();
  private PageSelection selection = PageSelection.ALL_TOUCHED;
  private boolean running;
  private int firstFile = 1;
  private Predicate<Vma> stored = v -> true;

  PageDumper(DumpOptions options, CheckpointId id, ImageSink sink,
      ProgressListener progress, BufferBudget budget, BooleanSupplier cancelled) {
    this.options = options;
    this.id = id;
    this.sink = sink;
    this.progress = progress;
    this.budget = budget;
    this.cancelled = cancelled;
  }

  /** Stores only the pages {@code s} selects (an incremental dump). */
  PageDumper selecting(PageSelection s) {
    this.selection = s;
    return this;
  }

  /**
   * Numbers this dump's pages files from {@code first} on (the processes of a tree each write
   * their own files into one set).
   */
  PageDumper storing(Predicate<Vma> which) {
    this.stored = which;
    return this;
  }

  PageDumper numberedFrom(int first) {
    this.firstFile = first;
    return this;
  }

  /**
   * Dumps a process that runs on while its pages are written (a pre-dump): each chunk is copied
   * before it is checksummed and written, so that a store meanwhile cannot make the two differ.
   */
  PageDumper whileRunning(boolean r) {
    this.running = r;
    return this;
  }

  Result dump(AddressSpace memory) throws IOException {
    List<Vma> vmas = memory.vmas().stream()
        .filter(v -> v.kind() != Vma.Kind.DEVICE) // saved by the plugin that claimed the mapping
        .filter(stored) // shared memory another mapping stores
        .toList();
    // A bound, not a count: the selected pages are visited once, by the workers.
    long pagesTotal = PageCursor.bound(vmas, selection);
    long chunksTotal = (pagesTotal + options.chunkPages() - 1) / options.chunkPages();
    int wanted = (int) Math.max(1, Math.min(options.threads(),
        chunksTotal / CHUNKS_PER_WORKER));
    if (!copying() && !packing()) {
      return dump(vmas, pagesTotal, wanted, null); // frames are written where they are: no buffers
    }
    long workerBytes = (long) options.chunkPages() * PAGE
        + (copying() ? ChunkCodec.maxStoredLength(options.chunkPages() * PAGE) : 0);
    try (BufferBudget.Grant grant = budget.acquire(workerBytes, workerBytes * wanted,
        cancelled)) {
      return dump(vmas, pagesTotal, Math.min(wanted, grant.buffers(workerBytes)), grant);
    }
  }

  /** Only compression and a running process need each chunk's pages copied together. */
  private boolean copying() {
    return running || options.compression().codec() != Compression.Codec.NONE;
  }

  /** Whether chunks of pages scattered over their frames are packed into a buffer. */
  private boolean packing() {
    return !selection.everyTouched();
  }

  /** Dumps with {@code workers} workers, their buffers from {@code grant} (null: none needed). */
  private Result dump(List<Vma> vmas, long pagesTotal, int workers, BufferBudget.Grant grant)
      throws IOException {
    PageCursor cursor = new PageCursor(vmas, selection);
    ConcurrentSkipListMap<Long, PageChunkEntry> results = new ConcurrentSkipListMap<>();
    long[] zeroPages = new long[workers];
    long[] scanned = new long[workers];
    long[] written = new long[workers];
    Parallel.run(workers, cursor::stop, w -> {
      try (Worker worker = new Worker(firstFile + w, options.compression(), grant)) {
        PageCursor.Batch batch = new PageCursor.Batch(options.chunkPages());
        while (cursor.next(batch)) {
          scanned[w] += batch.size();
          PageChunkEntry chunk = worker.write(batch);
          if (chunk != null) {
            results.put(batch.sequence(), chunk);
          }
          progress.progress("memory", pagesDone.addAndGet(batch.size()) * PAGE,
              pagesTotal * PAGE); // bytes
        }
        zeroPages[w] = worker.zeroPages;
        written[w] = worker.finish();
      }
    });
    return new Result(List.copyOf(results.values()), workers, Arrays.stream(scanned).sum(),
        Arrays.stream(zeroPages).sum(), Arrays.stream(written).sum());
  }

  /** One worker: its pages file, its buffers and its codec. */
  private final class Worker implements AutoCloseable {
    private final Arena arena = Arena.ofConfined();
    private final int fileNumber;
    private final ChunkFileWriter writer;
    private final ChunkCodec codec;
    private final ByteBuffer raw;
    private final MemorySegment rawSegment;
    private final ByteBuffer stored;
    private final CRC32C crc = new CRC32C();
    private final List<ByteBuffer> pieces = new ArrayList<>();
    long zeroPages;

    Worker(int fileNumber, Compression compression, BufferBudget.Grant grant)
        throws IOException {
      this.fileNumber = fileNumber;
      boolean copies = copying();
      // Memory from the grant: reused from earlier dumps, so a short dump pays no first touches.
      this.rawSegment = copies || packing() ? grant.allocate((long) options.chunkPages() * PAGE)
          : arena.allocate(0);
      this.raw = rawSegment.asByteBuffer();
      this.stored = (copies ? grant.allocate(ChunkCodec.maxStoredLength(raw.capacity()))
          : arena.allocate(0)).asByteBuffer();
      this.codec = new ChunkCodec(compression);
      this.writer = ChunkFileWriter.create(sink, ImageKind.PAGES.fileName(fileNumber),
          ImageKind.PAGES, id);
    }

    /** Writes a batch's non-zero pages as one chunk; null when all were zero. */
    PageChunkEntry write(PageCursor.Batch batch) throws IOException {
      PageChunkEntry.Builder entry = PageChunkEntry.newBuilder().setPagesFile(fileNumber);
      boolean copy = copying() || packing() && batch.pieces() > 1;
      pieces.clear();
      long runStart = -1;
      int runPages = 0;
      int runMapping = -1;
      int kept = 0;
      for (int p = 0; p < batch.pieces(); p++) {
        MemorySegment frames = batch.frames(p);
        int mapping = batch.mapping(p);
        long pieceFrom = 0;
        long pieceLength = 0;
        for (int i = 0; i < batch.pages(p); i++) {
          long at = (long) i * PAGE;
          long address = batch.address(p) + at;
          if (isZero(frames, at)) {
            zeroPages++;
            continue;
          }
          if (copy) {
            MemorySegment.copy(frames, at, rawSegment, (long) kept * PAGE, PAGE);
          } else if (pieceLength > 0 && at == pieceFrom + pieceLength) {
            pieceLength += PAGE; // the piece's frames follow each other: one piece of the write
          } else {
            addPiece(frames, pieceFrom, pieceLength);
            pieceFrom = at;
            pieceLength = PAGE;
          }
          kept++;
          // A run stays inside one mapping, even where the next one starts right after it.
          if (runPages > 0 && address == runStart + (long) runPages * PAGE
              && mapping == runMapping) {
            runPages++;
          } else {
            if (runPages > 0) {
              entry.addRuns(PageRun.newBuilder().setVaddr(runStart).setNrPages(runPages));
            }
            runStart = address;
            runPages = 1;
            runMapping = mapping;
          }
        }
        addPiece(frames, pieceFrom, pieceLength);
      }
      if (kept == 0) {
        return null;
      }
      entry.addRuns(PageRun.newBuilder().setVaddr(runStart).setNrPages(runPages));
      long offset;
      int storedLength;
      crc.reset();
      if (copy) {
        raw.clear().limit(kept * PAGE);
        ChunkCodec.Encoded encoded = codec.encode(raw, stored);
        storedLength = encoded.stored().remaining();
        crc.update(encoded.stored().duplicate());
        offset = writer.append(encoded.codec(), kept * PAGE, (int) crc.getValue(),
            encoded.stored());
      } else {
        for (ByteBuffer piece : pieces) {
          crc.update(piece.duplicate());
        }
        storedLength = kept * PAGE;
        offset = writer.append(Compression.Codec.NONE, storedLength, (int) crc.getValue(),
            pieces.toArray(ByteBuffer[]::new));
      }
      return entry.setFileOffset(offset).setStoredLength(storedLength).build();
    }

    /**
     * Adds {@code length} bytes of a batch's piece of frames from {@code from} on as one piece
     * of the gathering write; the piece keeps the frames' lifetime, so memory freed meanwhile
     * fails the dump instead of being read.
     */
    private void addPiece(MemorySegment frames, long from, long length) {
      if (length > 0) {
        pieces.add(frames.asSlice(from, length).asByteBuffer());
      }
    }

    long finish() throws IOException {
      writer.finish();
      return writer.length();
    }

    @Override
    public void close() throws IOException {
      try {
        codec.close();
        writer.close();
      } finally {
        arena.close(); // the raw buffer goes back with the grant
      }
    }
  }

  private static boolean isZero(MemorySegment frames, long at) {
    // Most pages that are not zero show it in their first word: no bulk compare for them.
    return frames.get(ValueLayout.JAVA_LONG_UNALIGNED, at) == 0
        && MemorySegment.mismatch(frames, at, at + PAGE, AddressSpace.zeroPage(), 0, PAGE) == -1;
  }
}
