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

  /**
   * Encodes {@code raw} (position to limit) into {@code out}, cleared first, and returns the
   * codec used. {@code out} is flipped, ready to be written.
   */
  public Compression.Codec encode(ByteBuffer raw, ByteBuffer out) {
    out.clear();
    if (compression.codec() == Compression.Codec.ZSTD) {
      if (compressor == null) {
        compressor = new ZstdCompressCtx().setLevel(compression.level());
      }
      int n = compressor.compressDirectByteBuffer(out, 0, out.capacity(), raw, raw.position(),
          raw.remaining());
      if (n < raw.remaining()) {
        out.limit(n);
        return Compression.Codec.ZSTD;
      }
    }
    out.put(raw.duplicate()).flip();
    return Compression.Codec.NONE;
  }

  /** Decodes a stored payload into {@code out}, which must receive exactly {@code rawLength}. */
  public void decode(Compression.Codec codec, ByteBuffer stored, int rawLength, ByteBuffer out,
      String file, long offset) {
    out.clear().limit(rawLength);
    if (codec == Compression.Codec.NONE) {
      out.put(stored.duplicate()).flip();
      return;
    }
    if (decompressor == null) {
      decompressor = new ZstdDecompressCtx();
    }
    int n;
    try {
      n = decompressor.decompressDirectByteBuffer(out, 0, rawLength, stored, stored.position(),
          stored.remaining());
    } catch (ZstdException e) {
      throw new CorruptImageException(file, "chunk at offset " + offset + " does not decompress: "
          + e.getMessage());
    }
    if (n != rawLength) {
      throw new CorruptImageException(file, "chunk at offset " + offset
          + ": decompressed length actual=" + n + " expected=" + rawLength);
    }
    out.position(0).limit(rawLength);
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
