package dev.accr.image;

import dev.accr.api.AccrException;
import dev.accr.api.BulkWriter;
import dev.accr.proto.PluginChunkEntry;
import dev.accr.proto.PluginPagemapHead;
import com.google.protobuf.MessageLite;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.zip.CRC32C;

/**
 * A plugin's bulk data: a pages file of chunks and a pagemap that indexes them by the plugin's
 * keys (grammar in {@link ImageKind#PLUGIN_PAGEMAP}). Callers compress in their own threads,
 * with codecs and scratch buffers from a small pool; only the append is serialised.
 */
public final class BulkFileWriter implements BulkWriter {
  private static final MemorySegment ZEROS = MemorySegment.ofArray(new long[BulkWriter.MAX_CHUNK / 8]);

  private final Path pagemapFile;
  private final CheckpointId id;
  private final PluginPagemapHead.Builder head;
  private final ChunkFileWriter pages;
  private final BlockingQueue<Worker> workers;
  private final List<PluginChunkEntry> index = new ArrayList<>();
  private long bytesIn;
  private long bytesStored;
  private boolean finished;

  /** A codec and its scratch buffer, used by one thread at a time. */
  private record Worker(ChunkCodec codec, ByteBuffer scratch) {}

  private BulkFileWriter(Path pagemapFile, CheckpointId id, PluginPagemapHead.Builder head,
      ChunkFileWriter pages, Compression compression, int parallelism) {
    this.pagemapFile = pagemapFile;
    this.id = id;
    this.head = head;
    this.pages = pages;
    this.workers = new ArrayBlockingQueue<>(parallelism);
    for (int i = 0; i < parallelism; i++) {
      ByteBuffer scratch = compression.codec() == Compression.Codec.NONE ? null
          : ByteBuffer.allocateDirect(ChunkCodec.maxStoredLength(MAX_CHUNK));
      workers.add(new Worker(new ChunkCodec(compression), scratch));
    }
  }

  /** Creates the pages file in {@code dir}; the pagemap is written by {@link #close}. */
  public static BulkFileWriter create(Path dir, String plugin, String what, long n,
      CheckpointId id, Compression compression, int parallelism) throws IOException {
    Path pagesFile = dir.resolve(ImageKind.PLUGIN_PAGES.pluginFileName(plugin, what, n));
    Path pagemapFile = dir.resolve(ImageKind.PLUGIN_PAGEMAP.pluginFileName(plugin, what, n));
    ChunkFileWriter pages = ChunkFileWriter.create(pagesFile, ImageKind.PLUGIN_PAGES, id);
    return new BulkFileWriter(pagemapFile, id,
        PluginPagemapHead.newBuilder().setPlugin(plugin).setWhat(what).setId(n), pages,
        compression, Math.max(1, parallelism));
  }

  @Override
  public void write(long key, MemorySegment data) {
    long length = data.byteSize();
    if (length <= 0 || length > MAX_CHUNK) {
      throw new IllegalArgumentException("chunk length " + length + " is not in 1.." + MAX_CHUNK);
    }
    synchronized (this) {
      bytesIn += length;
    }
    if (MemorySegment.mismatch(data, 0, length, ZEROS, 0, length) == -1) {
      return; // zero chunks are not stored; a reader leaves those bytes as they are (zero)
    }
    Worker w = take();
    try {
      ByteBuffer raw = data.asByteBuffer();
      ChunkCodec.Encoded encoded = w.codec().encode(raw, w.scratch());
      ByteBuffer stored = encoded.stored();
      CRC32C crc = new CRC32C();
      crc.update(stored.duplicate());
      synchronized (this) {
        if (finished) {
          throw new IllegalStateException("bulk file already closed");
        }
        int storedLength = stored.remaining();
        long offset = pages.append(encoded.codec(), (int) length, (int) crc.getValue(), stored);
        index.add(PluginChunkEntry.newBuilder().setKey(key).setFileOffset(offset)
            .setRawLength((int) length).setStoredLength(storedLength).build());
        bytesStored += storedLength;
      }
    } catch (IOException e) {
      throw AccrException.failed("writing %s: %s", pagemapFile.getFileName(), e.getMessage());
    } finally {
      workers.add(w);
    }
  }

  private Worker take() {
    try {
      return workers.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw AccrException.failed("interrupted while writing %s", pagemapFile.getFileName());
    }
  }

  @Override
  public synchronized long bytesIn() {
    return bytesIn;
  }

  @Override
  public synchronized long bytesStored() {
    return bytesStored;
  }

  @Override
  public synchronized void close() {
    if (finished) {
      return;
    }
    finished = true;
    try {
      pages.finish();
      List<MessageLite> entries = new ArrayList<>(index.size() + 1);
      entries.add(head.setPagesFileSize(pages.length()).build());
      entries.addAll(index);
      EntryImageCodec.write(pagemapFile, ImageKind.PLUGIN_PAGEMAP, id, entries);
    } catch (IOException e) {
      throw AccrException.failed("writing %s: %s", pagemapFile.getFileName(), e.getMessage());
    } finally {
      for (Worker w : workers) {
        w.codec().close();
      }
    }
  }

  /** Releases the file without finishing it (the dump failed; the set is discarded). */
  public synchronized void abandon() {
    if (!finished) {
      finished = true;
      try {
        pages.close();
      } catch (IOException ignored) {
        // The whole temporary set is removed.
      }
    }
  }
}
