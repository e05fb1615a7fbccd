package dev.accr.image;

import dev.accr.api.CorruptImageException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Builds a whole bulk-data file in memory from chunks whose stored bytes are given (the
 * grammar is in {@link ImageKind#PAGES}): what {@code accr encode} needs to turn a decoded file
 * back into the identical bytes. Every chunk is checked as a reader would check it, so an
 * edited chunk that does not decompress to its raw length is refused instead of written.
 */
public final class ChunkFileBytes {
  /** One chunk: its codec, raw (decompressed) length and stored bytes. */
  public record StoredChunk(Compression.Codec codec, int rawLength, byte[] stored) {}

  private ChunkFileBytes() {}

  /** The bytes of the bulk-data file {@code name}; {@code file} names the source in errors. */
  public static byte[] encode(ImageKind kind, int version, CheckpointId id, String name,
      List<StoredChunk> chunks, String file) {
    if (kind.body() != ImageKind.Body.CHUNKS) {
      throw new IllegalArgumentException(kind.formatName() + " is not a bulk-data kind");
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteBuffer header = ByteBuffer.allocate(ImageFraming.headerLength(kind, version, name));
    ImageFraming.writeHeader(header, kind, version, id, name);
    out.write(header.array(), 0, header.position());
    try (ChunkCodec codec = new ChunkCodec(Compression.NONE)) {
      ByteBuffer scratch = null;
      for (int i = 0; i < chunks.size(); i++) {
        StoredChunk c = chunks.get(i);
        check(c, i, file);
        if (c.codec() != Compression.Codec.NONE) {
          if (scratch == null || scratch.capacity() < c.rawLength()) {
            scratch = ByteBuffer.allocateDirect(c.rawLength());
          }
          ByteBuffer stored = ByteBuffer.allocateDirect(c.stored().length).put(c.stored()).flip();
          codec.decode(c.codec(), stored, c.rawLength(), scratch, file, out.size());
        }
        CRC32C crc = new CRC32C();
        crc.update(c.stored());
        ByteBuffer chunkHeader = ByteBuffer.allocate(ChunkFileWriter.CHUNK_HEADER_LENGTH)
            .put(c.codec().id).putInt(c.rawLength()).putInt(c.stored().length)
            .putInt((int) crc.getValue());
        out.write(chunkHeader.array(), 0, chunkHeader.position());
        out.write(c.stored(), 0, c.stored().length);
      }
    }
    CRC32C crc = new CRC32C();
    byte[] body = out.toByteArray();
    crc.update(body);
    ByteBuffer footer = ByteBuffer.allocate(ImageFraming.FOOTER_LENGTH);
    ImageFraming.writeFooter(footer, crc.getValue());
    out.write(footer.array(), 0, footer.position());
    return out.toByteArray();
  }

  private static void check(StoredChunk c, int index, String file) {
    if (c.rawLength() <= 0 || c.rawLength() > ChunkFileReader.MAX_RAW_LENGTH) {
      throw new CorruptImageException(file, "chunk " + index + ": raw length actual="
          + c.rawLength() + " expected=1.." + ChunkFileReader.MAX_RAW_LENGTH);
    }
    int stored = c.stored().length;
    if (stored == 0 || stored > c.rawLength()
        || (c.codec() == Compression.Codec.NONE && stored != c.rawLength())) {
      throw new CorruptImageException(file, "chunk " + index + ": stored length actual=" + stored
          + " expected=" + (c.codec() == Compression.Codec.NONE ? "" + c.rawLength()
              : "1.." + c.rawLength()));
    }
  }
}
