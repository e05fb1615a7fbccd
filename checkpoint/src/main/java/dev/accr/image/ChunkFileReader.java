package dev.accr.image;

import dev.accr.api.AccrException;
import dev.accr.api.CorruptImageException;
import dev.accr.api.Untrusted;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * Reads a bulk-data file front to back, checking every chunk's checksum as it goes and the
 * footer's checksum of the whole file at the end. Lengths read from the file are checked
 * against what is left of it before anything is allocated for them.
 */
public final class ChunkFileReader implements AutoCloseable {
  /** The largest raw chunk a reader accepts. */
  public static final int MAX_RAW_LENGTH = 16 << 20;

  /** One chunk record: where it is and what its header says. */
  public record Chunk(long offset, Compression.Codec codec, int rawLength, int storedLength,
      int crc) {}

  private final FileChannel channel;
  private final String file;
  private final long footerAt;
  private final RunningCrc crc = new RunningCrc();
  private final ByteBuffer chunkHeader = ByteBuffer.allocateDirect(ChunkFileWriter.CHUNK_HEADER_LENGTH);
  private final ImageFraming.Header header;
  private long position;
  private boolean pendingPayload;
  /** Chunks were read out of order: the running checksum means nothing, the footer is not checked. */
  private boolean sought;

  private ChunkFileReader(FileChannel channel, String file, CheckpointId expectedId,
      String name) throws IOException {
    this.channel = channel;
    this.file = file;
    long size = channel.size();
    this.footerAt = size - ImageFraming.FOOTER_LENGTH;
    int headerMax = ImageFraming.MAX_HEADER_LENGTH;
    ByteBuffer head = ByteBuffer.allocate((int) Math.min(headerMax, Math.max(0, size)));
    ImageFiles.readFully(channel, head, 0, file);
    head.flip();
    this.header = ImageFraming.readHeader(head, file, null);
    if (header.kind().body() != ImageKind.Body.CHUNKS) {
      throw new CorruptImageException(file, "not a bulk-data file: kind=" + header.kind().formatName());
    }
    if (footerAt < header.length()) {
      throw new CorruptImageException(file, "file too short: length=" + size);
    }
    crc.update(head.flip().limit(header.length()));
    position = header.length();
    try {
      ImageFraming.checkVersion(header, file);
      ImageFraming.checkId(header, expectedId, file);
      if (name != null) {
        ImageFraming.checkBinding(header, name, file);
      }
    } catch (AccrException e) {
      throw withChecksumVerdict(e);
    }
  }

  /**
   * Opens a bulk-data file of a set and checks its header: a header that names a file names
   * this one.
   */
  public static ChunkFileReader open(Path path, CheckpointId expectedId) throws IOException {
    return open(path, expectedId, path.getFileName().toString());
  }

  /** Opens one bulk-data file on its own, under whatever name it has now. */
  public static ChunkFileReader openAlone(Path path) throws IOException {
    return open(path, null, null);
  }

  private static ChunkFileReader open(Path path, CheckpointId expectedId, String name)
      throws IOException {
    String file = ImageFiles.displayName(path);
    FileChannel ch = ImageFiles.openRegular(path);
    try {
      return new ChunkFileReader(ch, file, expectedId, name);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  public ImageFraming.Header header() {
    return header;
  }

  public String file() {
    return file;
  }

  /**
   * Reads the next chunk's stored payload into {@code payload} (cleared; a chunk larger than
   * its capacity is refused) and checks its checksum. Returns null after the last chunk,
   * once the footer has been verified.
   */
  public Chunk next(ByteBuffer payload) throws IOException {
    Chunk chunk = nextHeader();
    if (chunk == null) {
      return null;
    }
    if (chunk.storedLength() > payload.capacity()) {
      throw corrupt("chunk at offset " + chunk.offset() + ": stored length "
          + chunk.storedLength() + " is larger than any chunk the pagemap announces");
    }
    payload.clear().limit(chunk.storedLength());
    readPayload(chunk, payload);
    payload.flip();
    return chunk;
  }

  /**
   * Reads and checks the header of the chunk at {@code offset} (from a pagemap), leaving its
   * payload to {@link #readPayload}: random access for a lazy restore, which checks each chunk
   * it reads but not the file's footer.
   */
  public Chunk chunkAt(long offset) throws IOException {
    if (offset < header.length() || offset >= footerAt) {
      throw corrupt("chunk offset " + offset + " is outside the file's chunks");
    }
    sought = true;
    pendingPayload = false;
    position = offset;
    return nextHeader();
  }

  /**
   * Reads and checks the next chunk's header, leaving its payload to {@link #readPayload}.
   * Returns null after the last chunk, once the footer has been verified.
   */
  public Chunk nextHeader() throws IOException {
    if (pendingPayload) {
      throw new IllegalStateException("the payload of the chunk before was not read");
    }
    if (position == footerAt) {
      if (!sought) {
        verifyFooter();
      }
      return null;
    }
    if (footerAt - position < ChunkFileWriter.CHUNK_HEADER_LENGTH) {
      throw corrupt("truncated chunk header at offset " + position);
    }
    long offset = position;
    chunkHeader.clear();
    ImageFiles.readFully(channel, chunkHeader, position, file);
    chunkHeader.flip();
    crc.update(chunkHeader);
    Compression.Codec codec = Compression.Codec.ofId(chunkHeader.get());
    int rawLength = chunkHeader.getInt();
    int storedLength = chunkHeader.getInt();
    int chunkCrc = chunkHeader.getInt();
    position += ChunkFileWriter.CHUNK_HEADER_LENGTH;
    if (codec == null) {
      throw corrupt("chunk at offset " + offset + ": unknown codec " + chunkHeader.get(0));
    }
    if (rawLength <= 0 || rawLength > MAX_RAW_LENGTH) {
      throw corrupt("chunk at offset " + offset + ": raw length actual=" + rawLength
          + " expected=1.." + MAX_RAW_LENGTH);
    }
    long left = footerAt - position;
    if (storedLength <= 0 || storedLength > left || storedLength > rawLength
        || (codec == Compression.Codec.NONE && storedLength != rawLength)) {
      throw corrupt("chunk at offset " + offset + ": stored length actual=" + storedLength
          + " expected=1.." + Math.min(left, rawLength) + (left < rawLength ? " (truncated?)" : ""));
    }
    pendingPayload = true;
    return new Chunk(offset, codec, rawLength, storedLength, chunkCrc);
  }

  /**
   * Reads the payload of the chunk {@link #nextHeader} returned into {@code targets} in turn
   * (each from its position to its limit, which together hold exactly the stored length) and
   * checks its checksum. Pages are read this way straight into the frames they restore.
   */
  public void readPayload(Chunk chunk, ByteBuffer... targets) throws IOException {
    if (!pendingPayload) {
      throw new IllegalStateException("no chunk header was read");
    }
    long total = 0;
    for (ByteBuffer t : targets) {
      total += t.remaining();
    }
    if (total != chunk.storedLength()) {
      throw new IllegalArgumentException("targets hold " + total + " bytes, the chunk "
          + chunk.storedLength());
    }
    CRC32C chunkCheck = new CRC32C();
    for (ByteBuffer t : targets) {
      int from = t.position();
      ImageFiles.readFully(channel, t, position, file);
      position += t.position() - from;
      chunkCheck.update(t.duplicate().flip().position(from));
    }
    pendingPayload = false;
    int actual = (int) chunkCheck.getValue();
    crc.append(actual, total);
    if (actual != chunk.crc()) {
      throw corrupt(String.format("chunk at offset %d: checksum actual=0x%08x expected=0x%08x",
          chunk.offset(), actual, chunk.crc()));
    }
  }

  private void verifyFooter() throws IOException {
    ByteBuffer footer = ByteBuffer.allocate(ImageFraming.FOOTER_LENGTH);
    ImageFiles.readFully(channel, footer, footerAt, file);
    long recorded = ImageFraming.readFooter(footer.flip(), file);
    ImageFraming.checkChecksum(recorded, crc.value(), file);
  }

  private CorruptImageException corrupt(String what) {
    return new CorruptImageException(file, what);
  }

  /**
   * After a header problem, checks the whole file's checksum so the error says whether the
   * file is damaged (exit 3) or intact but not readable by this build (the original error).
   */
  private AccrException withChecksumVerdict(AccrException original) throws IOException {
    try {
      ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
      while (position < footerAt) {
        buffer.clear().limit((int) Math.min(buffer.capacity(), footerAt - position));
        ImageFiles.readFully(channel, buffer, position, file);
        crc.update(buffer.flip());
        position += buffer.limit();
      }
      verifyFooter();
      return original;
    } catch (CorruptImageException damaged) {
      String named = " (" + Untrusted.name(file) + ")";
      return new CorruptImageException(file, original.getMessage().replace(named, "")
          + "; and " + damaged.getMessage().replace(named, ""));
    }
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
