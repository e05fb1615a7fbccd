package dev.accr.image;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import dev.accr.api.CorruptImageException;
import java.nio.ByteBuffer;

/**
 * Compresses and decompresses chunks between direct buffers. One per worker thread: it owns
 * its zstd contexts. A chunk that does not shrink is stored raw.
 */
public final class ChunkCodec implements AutoCloseable {
  private final Compression compression;
  private ZstdCompressCtx compressor;
  private ZstdDecompressCtx decompressor;

  public ChunkCodec(Compression compression) {
    this.compression = compression;
  }

  /** The largest stored payload for {@code rawLength} bytes of input. */
  public static int maxStoredLength(int rawLength) {
    return (int) Zstd.compressBound(rawLength);
  }

  /** A chunk ready to be written: its codec and the bytes to store (position to limit). */
  public record Encoded(Compression.Codec codec, ByteBuffer stored) {}

  /**
   * Encodes {@code raw} (position to limit), compressing into {@code scratch} when that
   * shrinks it; otherwise the chunk is stored raw and {@code raw} itself is returned, uncopied.
   */
  public Encoded encode(ByteBuffer raw, ByteBuffer scratch) {
    if (compression.codec() == Compression.Codec.ZSTD) {
      if (compressor == null) {
        compressor = new ZstdCompressCtx().setLevel(compression.level());
      }
      scratch.clear();
      int n = compressor.compressDirectByteBuffer(scratch, 0, scratch.capacity(), raw,
          raw.position(), raw.remaining());
      if (n < raw.remaining()) {
        return new Encoded(Compression.Codec.ZSTD, scratch.limit(n));
      }
    }
    return new Encoded(Compression.Codec.NONE, raw);
  }

  /**
   * Decodes a stored payload of {@code rawLength} bytes: a raw payload is returned as it is,
   * a compressed one is decompressed into {@code scratch}, which is returned.
   */
  public ByteBuffer decode(Compression.Codec codec, ByteBuffer stored, int rawLength,
      ByteBuffer scratch, String file, long offset) {
    if (codec == Compression.Codec.NONE) {
      return stored;
    }
    if (decompressor == null) {
      decompressor = new ZstdDecompressCtx();
    }
    scratch.clear().limit(rawLength);
    int n;
    try {
      n = decompressor.decompressDirectByteBuffer(scratch, 0, rawLength, stored,
          stored.position(), stored.remaining());
    } catch (ZstdException e) {
      throw new CorruptImageException(file, "chunk at offset " + offset + " does not decompress: "
          + e.getMessage());
    }
    if (n != rawLength) {
      throw new CorruptImageException(file, "chunk at offset " + offset
          + ": decompressed length actual=" + n + " expected=" + rawLength);
    }
    return scratch.position(0).limit(rawLength);
  }

  @Override
  public void close() {
    if (compressor != null) {
      compressor.close();
    }
    if (decompressor != null) {
      decompressor.close();
    }
  }
}
