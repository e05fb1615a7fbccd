package dev.accr.image;

import dev.accr.api.CorruptImageException;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * Checks one file of an image set as its bytes arrive, without reading it back: its header
 * (kind, set, the name it is received as), for bulk files every chunk's checksum as soon as the
 * chunk is complete, and at the end its footer against the checksum of everything before it.
 * The last {@link ImageFraming#FOOTER_LENGTH} bytes received are held back until the next ones
 * come: only the end of the file tells that they were the footer.
 */
public final class StreamedFileCheck {
  /** A chunk may not claim more than this (far above what writers produce). */
  private static final int MAX_PAYLOAD = 64 << 20;

  private final String name;
  private final CheckpointId id;
  private final ImageKind kind;
  private final boolean chunked;
  private final RunningCrc fileCrc = new RunningCrc();
  private final CRC32C pieceCrc = new CRC32C();
  private final byte[] header;
  private int headerFill;
  private final byte[] chunkHeader = new byte[ChunkFileWriter.CHUNK_HEADER_LENGTH];
  private int chunkHeaderFill;
  private long payloadLeft;
  private long payloadLength;
  private int payloadExpectedCrc;
  private final byte[] tail = new byte[ImageFraming.FOOTER_LENGTH];
  private int tailFill;
  private long received;

  /** A check of file {@code name} of the set {@code id}; its kind follows from the name. */
  public StreamedFileCheck(String name, CheckpointId id) {
    this.name = name;
    this.id = id;
    this.kind = ImageKind.ofFileName(name);
    if (kind == null) {
      throw new CorruptImageException(name, "not a file name of an image set");
    }
    this.chunked = kind == ImageKind.PAGES || kind == ImageKind.PLUGIN_PAGES;
    this.header = new byte[ImageFraming.headerLength(kind, ImageKind.VERSION_CURRENT, name)];
  }

  /** Bytes received so far. */
  public long received() {
    return received;
  }

  /** Takes the next {@code length} bytes of the file, from {@code bytes} at {@code offset}. */
  public void accept(byte[] bytes, int offset, int length) {
    accept(ByteBuffer.wrap(bytes, offset, length));
  }

  /**
   * Takes the next bytes of the file, {@code bytes} from its position to its limit (heap or
   * native; its position is left as it is).
   */
  public void accept(ByteBuffer bytes) {
    int offset = bytes.position();
    int length = bytes.remaining();
    received += length;
    int total = tailFill + length;
    int keep = Math.min(total, tail.length);
    int release = total - keep; // bytes that are certainly not part of the footer
    int fromTail = Math.min(release, tailFill);
    if (fromTail > 0) {
      parse(ByteBuffer.wrap(tail), 0, fromTail);
    }
    int fromBytes = release - fromTail;
    if (fromBytes > 0) {
      parse(bytes, offset, fromBytes);
    }
    // The new tail: what is left of the old one, then the rest of these bytes.
    int oldLeft = tailFill - fromTail;
    System.arraycopy(tail, fromTail, tail, 0, oldLeft);
    bytes.get(offset + fromBytes, tail, oldLeft, keep - oldLeft);
    tailFill = keep;
  }

  /** The file ended: checks that it ended whole, with the footer of what came before. */
  public void finish() {
    if (headerFill < header.length) {
      throw new CorruptImageException(name, "truncated header: length=" + headerFill);
    }
    if (chunkHeaderFill > 0 || payloadLeft > 0) {
      throw new CorruptImageException(name, "truncated chunk at the end of the file");
    }
    if (tailFill < tail.length) {
      throw new CorruptImageException(name, "truncated footer: length=" + tailFill);
    }
    long recorded = ImageFraming.readFooter(ByteBuffer.wrap(tail), name);
    ImageFraming.checkChecksum(recorded, fileCrc.value(), name);
  }

  private void parse(ByteBuffer b, int off, int len) {
    int end = off + len;
    while (off < end) {
      if (headerFill < header.length) {
        int n = Math.min(end - off, header.length - headerFill);
        b.get(off, header, headerFill, n);
        headerFill += n;
        crcOf(b, off, n);
        off += n;
        if (headerFill == header.length) {
          checkHeader();
        }
      } else if (!chunked) {
        crcOf(b, off, end - off);
        off = end;
      } else if (payloadLeft > 0) {
        int n = (int) Math.min(end - off, payloadLeft);
        pieceCrc.update(b.slice(off, n));
        payloadLeft -= n;
        off += n;
        if (payloadLeft == 0) {
          endPayload();
        }
      } else {
        int n = Math.min(end - off, chunkHeader.length - chunkHeaderFill);
        b.get(off, chunkHeader, chunkHeaderFill, n);
        chunkHeaderFill += n;
        crcOf(b, off, n);
        off += n;
        if (chunkHeaderFill == chunkHeader.length) {
          beginPayload();
        }
      }
    }
  }

  private void checkHeader() {
    ImageFraming.Header h = ImageFraming.readHeader(ByteBuffer.wrap(header), name, kind);
    ImageFraming.checkVersion(h, name);
    ImageFraming.checkBinding(h, name, name);
    ImageFraming.checkId(h, id, name);
  }

  private void beginPayload() {
    ByteBuffer h = ByteBuffer.wrap(chunkHeader);
    h.get(); // codec, checked when the chunk is read
    h.getInt(); // raw length, likewise
    int length = h.getInt();
    payloadExpectedCrc = h.getInt();
    if (length < 0 || length > MAX_PAYLOAD) {
      throw new CorruptImageException(name, "chunk payload length: actual=" + length
          + " expected=0.." + MAX_PAYLOAD + " (offset " + (received - tailFill) + ")");
    }
    chunkHeaderFill = 0;
    payloadLength = length;
    payloadLeft = length;
    pieceCrc.reset();
    if (length == 0) {
      endPayload();
    }
  }

  private void endPayload() {
    int actual = (int) pieceCrc.getValue();
    if (actual != payloadExpectedCrc) {
      throw new CorruptImageException(name, String.format(
          "chunk checksum failed: actual=0x%08x expected=0x%08x", actual, payloadExpectedCrc));
    }
    fileCrc.append(actual, payloadLength);
  }

  private void crcOf(ByteBuffer b, int off, int n) {
    pieceCrc.reset();
    pieceCrc.update(b.slice(off, n));
    fileCrc.append((int) pieceCrc.getValue(), n);
  }
}
