package dev.accr.image;

import dev.accr.api.AccrException;
import dev.accr.api.BulkWriter;
import dev.accr.kernel.BufferBudget;
import dev.accr.proto.PluginChunkEntry;
import dev.accr.proto.PluginPagemapHead;
import com.google.protobuf.MessageLite;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingDeque;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.function.BooleanSupplier;
import java.util.zip.CRC32C;

/**
 * A plugin's bulk data: pages files of chunks and a pagemap that indexes them by the plugin's
 * keys (grammar in {@link ImageKind#PLUGIN_PAGEMAP}). Like the core's {@code pages-<n>.img},
 * each thread writing at once appends to a file of its own (a lane): a writer takes a free
 * lane, compresses, checksums and appends in its own thread, and only the index entry is
 * added under a lock. Lane 0 is the {@code .pages.img} file; further lanes are created only
 * when writers overlap, so a single-threaded writer leaves one pages file. Compression
 * buffers are taken from the node's {@link BufferBudget} for one chunk at a time and freed
 * after it, so writers of many dumps at once share one bound and never hold a grant while
 * waiting for another.
 */
public final class BulkFileWriter implements BulkWriter {
  private static final MemorySegment ZEROS = MemorySegment.ofArray(new long[BulkWriter.MAX_CHUNK / 8]);

  private final ImageSink sink;
  private final String plugin;
  private final String what;
  private final long n;
  private final CheckpointId id;
  private final Compression compression;
  private final BufferBudget budget;
  private volatile BooleanSupplier cancelled = () -> false;
  /** Free lanes, most recently used first, so few lanes are opened when writers do not overlap. */
  private final BlockingDeque<Lane> free = new LinkedBlockingDeque<>();
  private final List<Lane> lanes = new ArrayList<>();
  private final List<PluginChunkEntry> index = new ArrayList<>();
  private long bytesIn;
  private long bytesStored;
  private ByteCounts counts = new ByteCounts();
  private int writing;
  private boolean finished;

  /** One pages file with its codec, used by one thread at a time. */
  private static final class Lane {
    final int number;
    final ChunkCodec codec;
    final CRC32C crc = new CRC32C();
    ChunkFileWriter file;

    Lane(int number, Compression compression) {
      this.number = number;
      this.codec = new ChunkCodec(compression);
    }
  }

  private BulkFileWriter(ImageSink sink, String plugin, String what, long n, CheckpointId id,
      Compression compression, int lanes, BufferBudget budget) {
    this.sink = sink;
    this.plugin = plugin;
    this.what = what;
    this.n = n;
    this.id = id;
    this.compression = compression;
    this.budget = budget;
    for (int i = 0; i < lanes; i++) {
      Lane lane = new Lane(i, compression);
      this.lanes.add(lane);
      free.addLast(lane);
    }
  }

  /**
   * Creates the first pages file in {@code dir}, allowing up to {@code parallelism} lanes; the
   * pagemap is written by {@link #close}.
   */
  public static BulkFileWriter create(Path dir, String plugin, String what, long n,
      CheckpointId id, Compression compression, int parallelism) throws IOException {
    return create(dir, plugin, what, n, id, compression, parallelism, BufferBudget.unlimited());
  }

  /** {@link #create}, its compression buffers taken from {@code budget}. */
  public static BulkFileWriter create(Path dir, String plugin, String what, long n,
      CheckpointId id, Compression compression, int parallelism, BufferBudget budget)
      throws IOException {
    return create(ImageSink.directory(dir), plugin, what, n, id, compression, parallelism,
        budget);
  }

  /** {@link #create}, the files going into {@code sink}. */
  public static BulkFileWriter create(ImageSink sink, String plugin, String what, long n,
      CheckpointId id, Compression compression, int parallelism, BufferBudget budget)
      throws IOException {
    BulkFileWriter w = new BulkFileWriter(sink, plugin, what, n, id, compression,
        Math.clamp(parallelism, 1, ImageKind.MAX_LANES), budget);
    w.open(w.lanes.getFirst());
    return w;
  }

  /** Makes writes give up (an {@link AccrException}) once {@code c} says so; returns this. */
  public BulkFileWriter cancelledBy(BooleanSupplier c) {
    this.cancelled = c;
    return this;
  }

  /**
   * Adds what this writer moves to {@code into} from now on (read: bytes given, skipped: zero
   * chunks, written: the rest, stored: after compression).
   */
  public synchronized BulkFileWriter countingInto(ByteCounts into) {
    counts = into;
    return this;
  }

  private void open(Lane lane) throws IOException {
    lane.file = ChunkFileWriter.create(sink,
        ImageKind.pluginLaneFileName(plugin, what, n, lane.number), ImageKind.PLUGIN_PAGES, id);
  }

  @Override
  public void write(long key, MemorySegment data) {
    long length = data.byteSize();
    if (length <= 0 || length > MAX_CHUNK) {
      throw new IllegalArgumentException("chunk length " + length + " is not in 1.." + MAX_CHUNK);
    }
    if (cancelled.getAsBoolean()) {
      throw AccrException.failed("writing %s: cancelled", pagemapName());
    }
    synchronized (this) {
      if (finished) {
        throw new IllegalStateException("bulk file already closed");
      }
      bytesIn += length;
      writing++; // close() waits for this write
    }
    ByteCounts c = counts;
    c.addRead(length);
    try {
      if (MemorySegment.mismatch(data, 0, length, ZEROS, 0, length) != -1) {
        store(key, data); // zero chunks are not stored; a reader leaves those bytes zero
        c.addWritten(length);
      } else {
        c.addSkipped(length);
      }
    } finally {
      synchronized (this) {
        writing--;
        notifyAll();
      }
    }
  }

  private void store(long key, MemorySegment data) {
    Lane lane;
    try {
      lane = free.takeFirst();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw AccrException.failed("interrupted while writing %s", pagemapName());
    }
    long bufferBytes = bufferBytes(data);
    try (BufferBudget.Grant grant = bufferBytes == 0 ? null
            : budget.acquire(bufferBytes, bufferBytes, cancelled);
        Arena buffers = Arena.ofConfined()) {
      if (lane.file == null) {
        open(lane);
      }
      ByteBuffer scratch = bufferBytes == 0 ? null
          : buffers.allocate(ChunkCodec.maxStoredLength((int) data.byteSize())).asByteBuffer();
      ChunkCodec.Encoded encoded = lane.codec.encode(readable(buffers, data), scratch);
      ByteBuffer stored = encoded.stored();
      int storedLength = stored.remaining();
      lane.crc.reset();
      lane.crc.update(stored.duplicate());
      long offset = lane.file.append(encoded.codec(), (int) data.byteSize(),
          (int) lane.crc.getValue(), stored);
      synchronized (this) {
        index.add(PluginChunkEntry.newBuilder().setKey(key).setLane(lane.number)
            .setFileOffset(offset).setRawLength((int) data.byteSize())
            .setStoredLength(storedLength).build());
        bytesStored += storedLength;
        counts.addStored(storedLength);
      }
    } catch (IOException e) {
      throw AccrException.failed("writing %s: %s", pagemapName(), e.getMessage());
    } finally {
      free.addFirst(lane);
    }
  }

  /**
   * The buffer bytes one chunk needs: none uncompressed, room for the compressed form, and
   * a native copy of heap data, which zstd cannot read.
   */
  private long bufferBytes(MemorySegment data) {
    if (compression.codec() == Compression.Codec.NONE) {
      return 0;
    }
    long stored = ChunkCodec.maxStoredLength((int) data.byteSize());
    return data.isNative() ? stored : stored + data.byteSize();
  }

  /** The chunk as a buffer the codec can read: compressing heap data needs a native copy. */
  private ByteBuffer readable(Arena buffers, MemorySegment data) {
    if (data.isNative() || compression.codec() == Compression.Codec.NONE) {
      return data.asByteBuffer();
    }
    return buffers.allocate(data.byteSize()).copyFrom(data).asByteBuffer();
  }

  private String pagemapName() {
    return ImageKind.PLUGIN_PAGEMAP.pluginFileName(plugin, what, n);
  }

  @Override
  public synchronized long bytesIn() {
    return bytesIn;
  }

  @Override
  public synchronized long bytesStored() {
    return bytesStored;
  }

  /** Finishes the lanes in use and writes the pagemap; waits for writes under way. */
  @Override
  public synchronized void close() {
    if (finished) {
      return;
    }
    finished = true;
    try {
      awaitWrites();
      PluginPagemapHead.Builder head = PluginPagemapHead.newBuilder().setPlugin(plugin)
          .setWhat(what).setId(n);
      for (Lane lane : lanes) {
        if (lane.file == null) {
          break; // lanes open in order: a lane is taken only after every lower one was busy
        }
        lane.file.finish();
        if (lane.number == 0) {
          head.setPagesFileSize(lane.file.length());
        } else {
          head.addLaneFileSizes(lane.file.length());
        }
      }
      List<MessageLite> entries = new ArrayList<>(index.size() + 1);
      entries.add(head.build());
      entries.addAll(index);
      EntryImageCodec.write(sink, pagemapName(), ImageKind.PLUGIN_PAGEMAP, id, entries);
    } catch (IOException e) {
      throw AccrException.failed("writing %s: %s", pagemapName(), e.getMessage());
    } finally {
      closeCodecs();
    }
  }

  /** Releases the files without finishing them (the dump failed; the set is discarded). */
  public synchronized void abandon() {
    if (finished) {
      return;
    }
    finished = true;
    awaitWrites();
    for (Lane lane : lanes) {
      try {
        if (lane.file != null) {
          lane.file.close();
        }
      } catch (IOException ignored) {
        // The whole temporary set is removed.
      }
    }
    closeCodecs();
  }

  private void awaitWrites() {
    boolean interrupted = false;
    while (writing > 0) {
      try {
        wait();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private void closeCodecs() {
    for (Lane lane : lanes) {
      lane.codec.close();
    }
  }
}
