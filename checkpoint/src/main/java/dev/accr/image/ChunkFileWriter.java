package dev.accr.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.nio.file.Path;

/**
 * Appends chunks to one bulk-data file (grammar in {@link ImageKind#PAGES}), keeping the
 * running checksum for the footer. One writer per file and thread; files are written in
 * parallel by several writers.
 */
public final class ChunkFileWriter implements AutoCloseable {
  public static final int CHUNK_HEADER_LENGTH = 13;

  private final GatheringByteChannel channel;
  private final ImageSink sink;
  private final String name;
  private final RunningCrc crc = new RunningCrc();
  private final ByteBuffer chunkHeader = ByteBuffer.allocateDirect(CHUNK_HEADER_LENGTH);
  private ByteBuffer[] gather = new ByteBuffer[2];
  private long position;

  private ChunkFileWriter(GatheringByteChannel channel, ImageSink sink, String name) {
    this.channel = channel;
    this.sink = sink;
    this.name = name;
  }

  /** Creates the file and writes its header. */
  public static ChunkFileWriter create(Path file, ImageKind kind, CheckpointId id)
      throws IOException {
    return create(ImageSink.directory(file.getParent()), file.getFileName().toString(), kind, id);
  }

  /** Creates the file {@code name} in {@code sink} and writes its header. */
  public static ChunkFileWriter create(ImageSink sink, String name, ImageKind kind,
      CheckpointId id) throws IOException {
    GatheringByteChannel ch = sink.create(name);
    ChunkFileWriter writer = new ChunkFileWriter(ch, sink, name);
    ByteBuffer header = ByteBuffer.allocate(ImageFraming.headerLength(kind,
        ImageKind.VERSION_CURRENT, name));
    ImageFraming.writeHeader(header, kind, ImageKind.VERSION_CURRENT, id, name);
    writer.writeChecksummed(header.flip());
    return writer;
  }

  /**
   * Appends a chunk whose stored payload is {@code payload} (position to limit) and returns the
   * chunk's offset in the file. {@code payloadCrc} is the CRC32C of the payload.
   */
  public long append(Compression.Codec codec, int rawLength, int payloadCrc, ByteBuffer payload)
      throws IOException {
    return append(codec, rawLength, payloadCrc, new ByteBuffer[] {payload});
  }

  /**
   * Appends a chunk whose stored payload is {@code pieces} one after the other (each from its
   * position to its limit), written with one gathering write and no copy: pages go from their
   * frames to the file. {@code payloadCrc} is the CRC32C of the whole payload.
   */
  public long append(Compression.Codec codec, int rawLength, int payloadCrc, ByteBuffer[] pieces)
      throws IOException {
    long offset = position;
    long payloadLength = 0;
    for (ByteBuffer p : pieces) {
      payloadLength += p.remaining();
    }
    chunkHeader.clear();
    chunkHeader.put(codec.id).putInt(rawLength).putInt((int) payloadLength).putInt(payloadCrc);
    chunkHeader.flip();
    crc.update(chunkHeader);
    crc.append(payloadCrc, payloadLength);
    if (gather.length != pieces.length + 1) {
      gather = new ByteBuffer[pieces.length + 1];
    }
    gather[0] = chunkHeader;
    System.arraycopy(pieces, 0, gather, 1, pieces.length);
    long length = chunkHeader.remaining() + payloadLength;
    if (FaultInjection.enabled()) {
      // One more step between a chunk's header and its payload: a file torn mid-chunk.
      writeFully(chunkHeader);
      FaultInjection.step("mid-chunk:" + name + "@" + offset);
    }
    long written = length - chunkHeader.remaining() - payloadLength;
    while (written < length) {
      written += channel.write(gather);
    }
    position += length;
    return offset;
  }

  private void writeFully(ByteBuffer bytes) throws IOException {
    while (bytes.hasRemaining()) {
      channel.write(bytes);
    }
  }

  private void writeChecksummed(ByteBuffer bytes) throws IOException {
    crc.update(bytes);
    while (bytes.hasRemaining()) {
      position += channel.write(bytes);
    }
  }

  /** Writes the footer and forces the file to storage. */
  public void finish() throws IOException {
    ByteBuffer footer = ByteBuffer.allocate(ImageFraming.FOOTER_LENGTH);
    ImageFraming.writeFooter(footer, crc.value());
    footer.flip();
    while (footer.hasRemaining()) {
      position += channel.write(footer);
    }
    FaultInjection.step("sync:" + name);
    sink.finish(channel);
  }

  /** Bytes written so far. */
  public long length() {
    return position;
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
