package dev.accr.image;

import dev.accr.api.AccrException;
import dev.accr.api.BulkReader;
import dev.accr.api.CorruptImageException;
import dev.accr.proto.PluginChunkEntry;
import dev.accr.proto.PluginPagemapHead;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Reads a plugin's bulk data (see {@link BulkFileWriter}). The pagemap is read and checked
 * when opened; the pages file is read front to back by the calling thread, each chunk checked
 * against its checksum and the pagemap, and decompressed and handed to the consumer by a pool
 * of workers with a fixed number of buffers.
 */
public final class BulkFileReader implements BulkReader {
  private final Path pagesFile;
  private final String pagemapName;
  private final CheckpointId id;
  private final List<Chunk> chunks;
  private final Map<Long, PluginChunkEntry> byOffset;
  private final int largest;

  private BulkFileReader(Path pagesFile, String pagemapName, CheckpointId id,
      List<PluginChunkEntry> entries) {
    this.pagesFile = pagesFile;
    this.pagemapName = pagemapName;
    this.id = id;
    this.chunks = new ArrayList<>(entries.size());
    this.byOffset = new HashMap<>();
    int max = 1;
    for (PluginChunkEntry e : entries) {
      chunks.add(new Chunk(e.getKey(), e.getRawLength()));
      byOffset.put(e.getFileOffset(), e);
      max = Math.max(max, e.getRawLength());
    }
    this.largest = max;
  }

  /** Opens the bulk data {@code what}/{@code n} of {@code plugin} in {@code dir}. */
  public static BulkFileReader open(Path dir, String plugin, String what, long n, CheckpointId id)
      throws IOException {
    Path pagemapFile = dir.resolve(ImageKind.PLUGIN_PAGEMAP.pluginFileName(plugin, what, n));
    Path pagesFile = dir.resolve(ImageKind.PLUGIN_PAGES.pluginFileName(plugin, what, n));
    String name = pagemapFile.toString();
    if (!Files.isRegularFile(pagemapFile)) {
      throw new CorruptImageException(name, "missing file");
    }
    EntryImage pagemap = EntryImageCodec.read(pagemapFile, ImageKind.PLUGIN_PAGEMAP, id);
    PluginPagemapHead head = pagemap.parse(PluginPagemapHead.parser(), 0);
    if (!head.getPlugin().equals(plugin) || !head.getWhat().equals(what) || head.getId() != n) {
      throw new CorruptImageException(name, "head names " + head.getPlugin() + "/"
          + head.getWhat() + "/" + head.getId() + ", expected " + plugin + "/" + what + "/" + n);
    }
    long size = Files.isRegularFile(pagesFile) ? Files.size(pagesFile) : -1;
    if (size != head.getPagesFileSize()) {
      throw new CorruptImageException(pagesFile.toString(), size < 0 ? "missing file"
          : "size: actual=" + size + " expected=" + head.getPagesFileSize());
    }
    // A chunk takes at least a chunk header and one byte: refuse more entries than fit.
    long maxChunks = size / (ChunkFileWriter.CHUNK_HEADER_LENGTH + 1);
    if (pagemap.entries().size() - 1L > maxChunks) {
      throw new CorruptImageException(name, "chunks: actual=" + (pagemap.entries().size() - 1)
          + " expected<=" + maxChunks);
    }
    List<PluginChunkEntry> entries = pagemap.parseRange(PluginChunkEntry.parser(), 1,
        pagemap.entries().size());
    long lastOffset = -1;
    for (PluginChunkEntry e : entries) {
      if (e.getFileOffset() <= lastOffset || e.getRawLength() <= 0
          || e.getRawLength() > ChunkFileReader.MAX_RAW_LENGTH || e.getStoredLength() <= 0
          || Integer.compareUnsigned(e.getStoredLength(), e.getRawLength()) > 0) {
        throw new CorruptImageException(name, "chunk entry at offset " + e.getFileOffset()
            + ": raw=" + e.getRawLength() + " stored=" + e.getStoredLength()
            + " (offsets must grow, lengths be 1.." + ChunkFileReader.MAX_RAW_LENGTH + ")");
      }
      lastOffset = e.getFileOffset();
    }
    return new BulkFileReader(pagesFile, name, id, entries);
  }

  @Override
  public List<Chunk> chunks() {
    return List.copyOf(chunks);
  }

  @Override
  public void forEach(int threads, ChunkConsumer consumer) {
    int workers = Math.max(1, threads);
    BlockingQueue<ByteBuffer> free = new ArrayBlockingQueue<>(workers + 1);
    for (int i = 0; i <= workers; i++) {
      free.add(ByteBuffer.allocateDirect(largest));
    }
    ExecutorService pool = Executors.newFixedThreadPool(workers, Thread.ofPlatform()
        .name("bulk-read-", 0).daemon().factory());
    List<Future<?>> pending = new ArrayList<>();
    ThreadLocal<ChunkCodec> codecs = ThreadLocal.withInitial(() -> new ChunkCodec(Compression.NONE));
    ThreadLocal<ByteBuffer> rawBuffers = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(largest));
    int seen = 0;
    try (ChunkFileReader reader = ChunkFileReader.open(pagesFile, id)) {
      while (true) {
        ByteBuffer stored = free.take();
        ChunkFileReader.Chunk chunk = reader.next(stored);
        if (chunk == null) {
          break;
        }
        PluginChunkEntry entry = byOffset.get(chunk.offset());
        if (entry == null || entry.getRawLength() != chunk.rawLength()
            || entry.getStoredLength() != chunk.storedLength()) {
          throw new CorruptImageException(reader.file(), "chunk at offset " + chunk.offset()
              + " does not match " + Path.of(pagemapName).getFileName());
        }
        seen++;
        pending.add(pool.submit(() -> {
          try {
            ChunkCodec codec = codecs.get();
            ByteBuffer raw = rawBuffers.get();
            ByteBuffer data = codec.decode(chunk.codec(), stored, chunk.rawLength(), raw,
                reader.file(), chunk.offset());
            consumer.accept(entry.getKey(), MemorySegment.ofBuffer(data));
          } finally {
            free.add(stored);
          }
          return null;
        }));
        drainDone(pending);
      }
      if (seen != chunks.size()) {
        throw new CorruptImageException(pagesFile.toString(), "chunks: actual=" + seen
            + " expected=" + chunks.size());
      }
      for (Future<?> f : pending) {
        await(f);
      }
    } catch (IOException e) {
      throw AccrException.failed("reading %s: %s", pagesFile, e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw AccrException.failed("interrupted while reading %s", pagesFile);
    } finally {
      pool.shutdownNow();
    }
  }

  private static void drainDone(List<Future<?>> pending) {
    while (!pending.isEmpty() && pending.getFirst().isDone()) {
      await(pending.removeFirst());
    }
  }

  private static void await(Future<?> f) {
    try {
      f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw AccrException.failed("interrupted");
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(e.getCause());
    }
  }

  @Override
  public void close() {}
}
