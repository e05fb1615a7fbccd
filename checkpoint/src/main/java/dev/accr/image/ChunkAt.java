package dev.accr.image;

import dev.accr.api.CorruptImageException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * Reads single chunks of a bulk-data file by offset, each checked and decompressed: the
 * random access of a lazy restore, which loads the chunk holding a page when the page is first
 * touched. Not thread-safe: one per reading thread, or guarded by the caller.
 */
public final class ChunkAt implements AutoCloseable {
  private final ChunkFileReader reader;
  private final ChunkCodec codec = new ChunkCodec(Compression.NONE);
  private ByteBuffer stored = ByteBuffer.allocateDirect(0);
  private ByteBuffer raw = ByteBuffer.allocateDirect(0);

  private ChunkAt(ChunkFileReader reader) {
    this.reader = reader;
  }

  /** Opens a bulk-data file of the set {@code id}, checking its header. */
  public static ChunkAt open(Path file, CheckpointId id) throws IOException {
    return new ChunkAt(ChunkFileReader.open(file, id));
  }

  /** The file, as errors name it. */
  public String file() {
    return reader.file();
  }

  /**
   * Reads the chunk at {@code offset}, which the pagemap says holds {@code rawLength} bytes
   * stored in {@code storedLength}, and returns its data (valid until the next read).
   */
  public MemorySegment read(long offset, int rawLength, int storedLength) throws IOException {
    ChunkFileReader.Chunk chunk = reader.chunkAt(offset);
    if (chunk == null || chunk.rawLength() != rawLength
        || (storedLength > 0 && chunk.storedLength() != storedLength)) {
      throw new CorruptImageException(reader.file(), "chunk at offset " + offset
          + ": lengths raw=" + (chunk == null ? 0 : chunk.rawLength()) + " stored="
          + (chunk == null ? 0 : chunk.storedLength()) + " expected raw=" + rawLength
          + " stored=" + storedLength);
    }
    if (stored.capacity() < chunk.storedLength()) {
      stored = ByteBuffer.allocateDirect(chunk.storedLength());
    }
    if (raw.capacity() < rawLength) {
      raw = ByteBuffer.allocateDirect(rawLength);
    }
    reader.readPayload(chunk, stored.clear().limit(chunk.storedLength()));
    stored.flip();
    ByteBuffer data = codec.decode(chunk.codec(), stored, rawLength, raw, reader.file(), offset);
    return MemorySegment.ofBuffer(data).asSlice(0, rawLength);
  }

  @Override
  public void close() throws IOException {
    try {
      codec.close();
    } finally {
      reader.close();
    }
  }
}
