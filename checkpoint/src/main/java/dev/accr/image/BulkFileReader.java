package dev.accr.image;

import dev.accr.api.AccrException;
import dev.accr.api.BulkReader;
import dev.accr.api.CorruptImageException;
import dev.accr.kernel.BufferBudget;
import dev.accr.proto.PluginChunkEntry;
import dev.accr.proto.PluginPagemapHead;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;

/**
 * Reads a plugin's bulk data (see {@link BulkFileWriter}). The pagemap is read and checked
 * when opened; each pages file (lane) is read front to back by a thread of its own, each chunk
 * checked against its checksum and the pagemap, and decompressed and handed to the consumer by
 * a pool of workers with a fixed number of buffers. The buffers are one grant of the node's
 * {@link BufferBudget}, held for one {@link #forEach}: with less granted, fewer workers and
 * buffers are in flight (at least one of each). With {@link #forEachAsync}, uncompressed chunks
 * go from the lane's reader straight to the consumer, and a buffer stays with its chunk until
 * the consumer's work on it is done ({@link ChunksInFlight}).
 */
public final class BulkFileReader implements BulkReader {
  private final List<Path> laneFiles;
  private final String pagemapName;
  private final CheckpointId id;
  private final List<Chunk> chunks;
  /** Per lane: the pagemap entry of each chunk, by offset in the lane's file. */
  private final List<Map<Long, PluginChunkEntry>> byOffset;
  private final int largest;
  /** Per lane, the reader of single chunks ({@link #read}), opened on first use. */
  private final ChunkAt[] single;
  private BufferBudget budget = BufferBudget.unlimited();
  private BooleanSupplier cancelled = () -> false;
  private ByteCounts counts = new ByteCounts();

  private BulkFileReader(List<Path> laneFiles, String pagemapName, CheckpointId id,
      List<PluginChunkEntry> entries) {
    this.laneFiles = laneFiles;
    this.pagemapName = pagemapName;
    this.id = id;
    this.chunks = new ArrayList<>(entries.size());
    this.byOffset = new ArrayList<>();
    for (int i = 0; i < laneFiles.size(); i++) {
      byOffset.add(new HashMap<>());
    }
    int max = 1;
    for (PluginChunkEntry e : entries) {
      chunks.add(new Chunk(e.getKey(), e.getRawLength(), e.getStoredLength()));
      byOffset.get(e.getLane()).put(e.getFileOffset(), e);
      max = Math.max(max, e.getRawLength());
    }
    this.largest = max;
    this.single = new ChunkAt[laneFiles.size()];
  }

  /** Opens the bulk data {@code what}/{@code n} of {@code plugin} in {@code dir}. */
  public static BulkFileReader open(Path dir, String plugin, String what, long n, CheckpointId id)
      throws IOException {
    Path pagemapFile = dir.resolve(ImageKind.PLUGIN_PAGEMAP.pluginFileName(plugin, what, n));
    String name = pagemapFile.toString();
    ImageFiles.regularFile(pagemapFile);
    EntryImage pagemap = EntryImageCodec.read(pagemapFile, ImageKind.PLUGIN_PAGEMAP, id);
    PluginPagemapHead head = pagemap.parse(PluginPagemapHead.parser(), 0);
    if (!head.getPlugin().equals(plugin) || !head.getWhat().equals(what) || head.getId() != n) {
      throw new CorruptImageException(name, "head names " + head.getPlugin() + "/"
          + head.getWhat() + "/" + head.getId() + ", expected " + plugin + "/" + what + "/" + n);
    }
    int lanes = 1 + head.getLaneFileSizesCount();
    if (lanes > ImageKind.MAX_LANES) {
      throw new CorruptImageException(name, "lanes: actual=" + lanes + " expected<="
          + ImageKind.MAX_LANES);
    }
    List<Path> laneFiles = new ArrayList<>(lanes);
    // A chunk takes at least a chunk header and one byte: refuse more entries than fit.
    long maxChunks = 0;
    for (int lane = 0; lane < lanes; lane++) {
      Path file = dir.resolve(ImageKind.pluginLaneFileName(plugin, what, n, lane));
      long expected = lane == 0 ? head.getPagesFileSize() : head.getLaneFileSizes(lane - 1);
      long size = ImageFiles.regularFile(file).size();
      if (size != expected) {
        throw new CorruptImageException(file.toString(), "size: actual=" + size + " expected="
            + expected);
      }
      laneFiles.add(file);
      maxChunks += size / (ChunkFileWriter.CHUNK_HEADER_LENGTH + 1);
    }
    if (pagemap.entries().size() - 1L > maxChunks) {
      throw new CorruptImageException(name, "chunks: actual=" + (pagemap.entries().size() - 1)
          + " expected<=" + maxChunks);
    }
    List<PluginChunkEntry> entries = pagemap.parseRange(PluginChunkEntry.parser(), 1,
        pagemap.entries().size());
    long[] lastOffset = new long[lanes];
    Arrays.fill(lastOffset, -1);
    for (PluginChunkEntry e : entries) {
      if (Integer.compareUnsigned(e.getLane(), lanes) >= 0) {
        throw new CorruptImageException(name, "chunk entry at offset " + e.getFileOffset()
            + ": lane " + Integer.toUnsignedString(e.getLane()) + " of " + lanes);
      }
      if (e.getFileOffset() <= lastOffset[e.getLane()] || e.getRawLength() <= 0
          || e.getRawLength() > ChunkFileReader.MAX_RAW_LENGTH || e.getStoredLength() <= 0
          || Integer.compareUnsigned(e.getStoredLength(), e.getRawLength()) > 0) {
        throw new CorruptImageException(name, "chunk entry at offset " + e.getFileOffset()
            + ": raw=" + e.getRawLength() + " stored=" + e.getStoredLength()
            + " (offsets must grow, lengths be 1.." + ChunkFileReader.MAX_RAW_LENGTH + ")");
      }
      lastOffset[e.getLane()] = e.getFileOffset();
    }
    return new BulkFileReader(laneFiles, name, id, entries);
  }

  /** Takes the buffers of {@link #forEach} from {@code b}; returns this reader. */
  public BulkFileReader budgeted(BufferBudget b) {
    this.budget = b;
    return this;
  }

  /** Makes {@link #forEach} give up (an {@link AccrException}) once {@code c} says so. */
  public BulkFileReader cancelledBy(BooleanSupplier c) {
    this.cancelled = c;
    return this;
  }

  /**
   * Adds what {@link #forEach} moves to {@code into} (read and stored: bytes of the files'
   * chunks, written: bytes handed to the consumer).
   */
  public BulkFileReader countingInto(ByteCounts into) {
    counts = into;
    return this;
  }

  @Override
  public List<Chunk> chunks() {
    return List.copyOf(chunks);
  }

  @Override
  public void forEach(int threads, ChunkConsumer consumer) {
    read(threads, false, (key, data) -> {
      consumer.accept(key, data);
      return Pending.DONE;
    });
  }

  @Override
  public void forEachAsync(int threads, AsyncChunkConsumer consumer) {
    read(threads, true, consumer);
  }

  private void read(int threads, boolean async, AsyncChunkConsumer consumer) {
    int lanes = laneFiles.size();
    int wanted = Math.max(1, threads);
    // Each worker decodes into a buffer of its own; stored chunks wait in the others.
    try (BufferBudget.Grant grant = budget.acquire(2L * largest,
            (2L * wanted + lanes) * largest, cancelled)) {
      int buffers = Math.max(2, grant.buffers(largest));
      int workers = Math.clamp(buffers / 2, 1, wanted);
      read(workers, buffers - workers, grant, async, consumer);
    }
  }

  private void read(int workers, int storedBuffers, BufferBudget.Grant grant, boolean async,
      AsyncChunkConsumer consumer) {
    int lanes = laneFiles.size();
    ExecutorService pool = Executors.newFixedThreadPool(workers, Thread.ofPlatform()
        .name("bulk-read-", 0).daemon().factory());
    ExecutorService laneReaders = Executors.newFixedThreadPool(lanes, Thread.ofPlatform()
        .name("bulk-lane-", 0).daemon().factory());
    Decoding decoding = new Decoding(pool, consumer, async,
        new ChunkBuffers(grant, largest, storedBuffers), new ChunkBuffers(grant, largest, workers));
    try {
      List<Future<Integer>> seen = new ArrayList<>();
      for (int lane = 0; lane < lanes; lane++) {
        int l = lane;
        seen.add(laneReaders.submit(() -> readLane(l, decoding)));
      }
      int total = 0;
      for (Future<Integer> f : seen) {
        total += await(f);
      }
      decoding.inFlight.awaitAll();
      if (total != chunks.size()) {
        throw new CorruptImageException(pagemapName, "chunks: actual=" + total + " expected="
            + chunks.size());
      }
    } finally {
      decoding.stop();
      laneReaders.shutdownNow();
      pool.shutdownNow();
      // No consumer may run once this returns, failed or not: after a failure the caller frees
      // what the consumers write into (device memory of a restore that is rolled back).
      laneReaders.close();
      pool.close();
      decoding.inFlight.awaitAllQuietly();
    }
  }

  /** The decoding side of a {@link #read}, shared by the lanes' readers. */
  private final class Decoding {
    final ExecutorService pool;
    final AsyncChunkConsumer consumer;
    /** Uncompressed chunks go from the lane's reader straight to the consumer. */
    final boolean direct;
    final ChunkBuffers stored;
    final ChunkBuffers raw;
    final ChunksInFlight inFlight = new ChunksInFlight();
    final ThreadLocal<ChunkCodec> codecs = ThreadLocal.withInitial(() -> new ChunkCodec(Compression.NONE));
    volatile boolean stopped;

    Decoding(ExecutorService pool, AsyncChunkConsumer consumer, boolean direct,
        ChunkBuffers stored, ChunkBuffers raw) {
      this.pool = pool;
      this.consumer = consumer;
      this.direct = direct;
      this.stored = stored;
      this.raw = raw;
    }

    void stop() {
      stopped = true;
    }
  }

  /** Reads one lane's file, checking each chunk against the pagemap; returns chunks seen. */
  private int readLane(int lane, Decoding d) throws InterruptedException {
    Path file = laneFiles.get(lane);
    List<Future<?>> pending = new ArrayList<>();
    int seen = 0;
    try (ChunkFileReader reader = ChunkFileReader.open(file, id)) {
      while (!d.stopped) {
        if (cancelled.getAsBoolean()) {
          throw AccrException.failed("reading %s: cancelled", Path.of(pagemapName).getFileName());
        }
        ByteBuffer stored = d.stored.take(d.inFlight);
        ChunkFileReader.Chunk chunk = reader.next(stored);
        if (chunk == null) {
          d.stored.give(stored);
          break;
        }
        PluginChunkEntry entry = byOffset.get(lane).get(chunk.offset());
        if (entry == null || entry.getRawLength() != chunk.rawLength()
            || entry.getStoredLength() != chunk.storedLength()) {
          d.stored.give(stored);
          throw new CorruptImageException(reader.file(), "chunk at offset " + chunk.offset()
              + " does not match " + Path.of(pagemapName).getFileName());
        }
        seen++;
        if (d.direct && chunk.codec() == Compression.Codec.NONE) {
          deliver(d, entry, chunk, stored, d.stored);
        } else {
          pending.add(d.pool.submit(() -> decode(d, entry, chunk, stored, reader.file())));
        }
        while (!pending.isEmpty() && pending.getFirst().isDone()) {
          await(pending.removeFirst());
        }
      }
      for (Future<?> f : pending) {
        await(f);
      }
    } catch (IOException e) {
      d.stop();
      throw AccrException.failed("reading %s: %s", file, e.getMessage());
    } catch (RuntimeException | InterruptedException e) {
      d.stop();
      throw e;
    }
    return seen;
  }

  /** A worker's part: decodes a stored chunk and hands it to the consumer. */
  private Void decode(Decoding d, PluginChunkEntry entry, ChunkFileReader.Chunk chunk,
      ByteBuffer stored, String file) throws InterruptedException {
    if (chunk.codec() == Compression.Codec.NONE) {
      deliver(d, entry, chunk, stored, d.stored);
      return null;
    }
    ByteBuffer raw;
    try {
      raw = d.raw.take(d.inFlight);
    } catch (InterruptedException | RuntimeException e) {
      d.stored.give(stored);
      throw e;
    }
    ByteBuffer data;
    try {
      data = d.codecs.get().decode(chunk.codec(), stored, chunk.rawLength(), raw, file,
          chunk.offset());
    } catch (RuntimeException e) {
      d.raw.give(raw);
      throw e;
    } finally {
      d.stored.give(stored);
    }
    deliver(d, entry, chunk, data, d.raw);
    return null;
  }

  /** Hands a chunk's data to the consumer; its buffer returns to {@code home} once done. */
  private void deliver(Decoding d, PluginChunkEntry entry, ChunkFileReader.Chunk chunk,
      ByteBuffer data, ChunkBuffers home) {
    Pending work;
    try {
      work = d.consumer.accept(entry.getKey(), MemorySegment.ofBuffer(data));
    } catch (RuntimeException e) {
      home.give(data.clear());
      throw e;
    }
    counts.addRead(chunk.storedLength());
    counts.addStored(chunk.storedLength());
    counts.addWritten(chunk.rawLength());
    d.inFlight.add(work, data, home);
  }

  private static <T> T await(Future<T> f) {
    try {
      return f.get();
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
  public synchronized void read(Chunk chunk, MemorySegment into) {
    for (int lane = 0; lane < laneFiles.size(); lane++) {
      for (PluginChunkEntry e : byOffset.get(lane).values()) {
        if (e.getKey() == chunk.key() && e.getRawLength() == chunk.length()) {
          readEntry(lane, e, into);
          return;
        }
      }
    }
    throw new IllegalArgumentException("no chunk with key " + chunk.key());
  }

  private void readEntry(int lane, PluginChunkEntry e, MemorySegment into) {
    try {
      if (single[lane] == null) {
        single[lane] = ChunkAt.open(laneFiles.get(lane), id);
      }
      MemorySegment data = single[lane].read(e.getFileOffset(), e.getRawLength(),
          e.getStoredLength());
      MemorySegment.copy(data, 0, into, 0, e.getRawLength());
      counts.addRead(e.getStoredLength());
      counts.addStored(e.getStoredLength());
      counts.addWritten(e.getRawLength());
    } catch (IOException ex) {
      throw AccrException.failed("reading %s: %s", laneFiles.get(lane), ex.getMessage());
    }
  }

  @Override
  public synchronized void close() {
    for (int lane = 0; lane < single.length; lane++) {
      if (single[lane] != null) {
        try {
          single[lane].close();
        } catch (IOException ignored) {
          // a read-only file: nothing is lost
        }
        single[lane] = null;
      }
    }
  }
}
