package dev.accr.engine;

import dev.accr.image.ProgressListener;
import dev.accr.api.MemoryView;
import dev.accr.image.CheckpointId;
import dev.accr.image.ChunkCodec;
import dev.accr.image.ChunkFileWriter;
import dev.accr.image.Compression;
import dev.accr.image.ImageKind;
import dev.accr.kernel.AddressSpace;
import dev.accr.kernel.Vma;
import dev.accr.proto.PageChunkEntry;
import dev.accr.proto.PageRun;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import java.util.zip.CRC32C;

/**
 * Writes the touched pages of an address space as chunks into {@code pages-<n>.img} files,
 * one file per worker thread. Workers take chunks in address order from a shared counter,
 * skip zero pages, compress, checksum and append, all in parallel; memory use is two buffers
 * per worker, whatever the size of the process.
 */
final class PageDumper {
  private static final int PAGE = MemoryView.PAGE_SIZE;

  /** What a page dump wrote. */
  record Result(List<PageChunkEntry> chunks, int pagesFiles, long pagesScanned, long zeroPages,
      long bytesWritten) {}

  /** Touched pages of the process, grouped into chunk-sized tasks. */
  private record Task(long[] addresses, MemorySegment[] frames) {}

  private final DumpOptions options;
  private final CheckpointId id;
  private final IntFunction<Path> pagesFile;
  private final ProgressListener progress;
  private final AtomicLong pagesDone = new AtomicLong();

  PageDumper(DumpOptions options, CheckpointId id, IntFunction<Path> pagesFile,
      ProgressListener progress) {
    this.options = options;
    this.id = id;
    this.pagesFile = pagesFile;
    this.progress = progress;
  }

  Result dump(AddressSpace memory) throws IOException {
    List<Task> tasks = split(memory.vmas());
    long pagesTotal = tasks.stream().mapToLong(t -> t.addresses().length).sum();
    int workers = Math.max(1, Math.min(options.threads(), tasks.size()));
    PageChunkEntry[] results = new PageChunkEntry[tasks.size()];
    AtomicInteger next = new AtomicInteger();
    long[] zeroPages = new long[workers];
    long[] written = new long[workers];
    Parallel.run(workers, w -> {
      try (Worker worker = new Worker(w + 1, options.compression())) {
        for (int t; (t = next.getAndIncrement()) < tasks.size(); ) {
          results[t] = worker.write(tasks.get(t));
          progress.progress("memory", pagesDone.addAndGet(tasks.get(t).addresses().length)
              * MemoryView.PAGE_SIZE, pagesTotal * MemoryView.PAGE_SIZE); // bytes
        }
        zeroPages[w] = worker.zeroPages;
        written[w] = worker.finish();
      }
    });
    List<PageChunkEntry> chunks = Arrays.stream(results).filter(c -> c != null).toList();
    return new Result(chunks, workers, pagesTotal, Arrays.stream(zeroPages).sum(),
        Arrays.stream(written).sum());
  }

  private List<Task> split(List<Vma> vmas) {
    int chunkPages = options.chunkPages();
    List<Task> tasks = new ArrayList<>();
    long[][] addresses = {new long[chunkPages]};
    MemorySegment[][] frames = {new MemorySegment[chunkPages]};
    int[] n = {0};
    for (Vma vma : vmas) {
      if (vma.kind() == Vma.Kind.DEVICE) {
        continue; // device memory is saved by the plugin that claimed the mapping
      }
      vma.forEachTouchedPage((address, frame) -> {
        addresses[0][n[0]] = address;
        frames[0][n[0]] = frame;
        if (++n[0] == chunkPages) {
          tasks.add(new Task(addresses[0], frames[0]));
          addresses[0] = new long[chunkPages];
          frames[0] = new MemorySegment[chunkPages];
          n[0] = 0;
        }
      });
    }
    if (n[0] > 0) {
      tasks.add(new Task(Arrays.copyOf(addresses[0], n[0]), Arrays.copyOf(frames[0], n[0])));
    }
    return tasks;
  }

  /** One worker: its pages file, its buffers and its codec. */
  private final class Worker implements AutoCloseable {
    private final int fileNumber;
    private final ChunkFileWriter writer;
    private final ChunkCodec codec;
    private final ByteBuffer raw;
    private final MemorySegment rawSegment;
    private final ByteBuffer stored;
    private final CRC32C crc = new CRC32C();
    long zeroPages;

    Worker(int fileNumber, Compression compression) throws IOException {
      this.fileNumber = fileNumber;
      this.writer = ChunkFileWriter.create(pagesFile.apply(fileNumber), ImageKind.PAGES, id);
      this.codec = new ChunkCodec(compression);
      this.raw = ByteBuffer.allocateDirect(options.chunkPages() * PAGE);
      this.rawSegment = MemorySegment.ofBuffer(raw);
      this.stored = ByteBuffer.allocateDirect(ChunkCodec.maxStoredLength(raw.capacity()));
    }

    /** Writes a task's non-zero pages as one chunk; null when all were zero. */
    PageChunkEntry write(Task task) throws IOException {
      PageChunkEntry.Builder entry = PageChunkEntry.newBuilder().setPagesFile(fileNumber);
      long runStart = -1;
      int runPages = 0;
      int kept = 0;
      for (int i = 0; i < task.addresses().length; i++) {
        MemorySegment frame = task.frames()[i];
        long address = task.addresses()[i];
        if (isZero(frame)) {
          zeroPages++;
          continue;
        }
        MemorySegment.copy(frame, 0, rawSegment, (long) kept * PAGE, PAGE);
        kept++;
        if (runPages > 0 && address == runStart + (long) runPages * PAGE) {
          runPages++;
        } else {
          if (runPages > 0) {
            entry.addRuns(PageRun.newBuilder().setVaddr(runStart).setNrPages(runPages));
          }
          runStart = address;
          runPages = 1;
        }
      }
      if (kept == 0) {
        return null;
      }
      entry.addRuns(PageRun.newBuilder().setVaddr(runStart).setNrPages(runPages));
      raw.clear().limit(kept * PAGE);
      ChunkCodec.Encoded encoded = codec.encode(raw, stored);
      int storedLength = encoded.stored().remaining();
      crc.reset();
      crc.update(encoded.stored().duplicate());
      long offset = writer.append(encoded.codec(), kept * PAGE, (int) crc.getValue(),
          encoded.stored());
      return entry.setFileOffset(offset).setStoredLength(storedLength).build();
    }

    long finish() throws IOException {
      writer.finish();
      return writer.length();
    }

    @Override
    public void close() throws IOException {
      codec.close();
      writer.close();
    }
  }

  private static boolean isZero(MemorySegment page) {
    return MemorySegment.mismatch(page, 0, PAGE, AddressSpace.zeroPage(), 0, PAGE) == -1;
  }
}
