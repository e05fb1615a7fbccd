package dev.accr.image;

import dev.accr.api.AccrException;
import dev.accr.api.CorruptImageException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Writes and checks the header and footer that frame every image file (grammar in
 * {@link dev.accr.image}). The only class that knows their layout.
 */
public final class ImageFraming {
  /** "ACCR" in ASCII. */
  public static final int MAGIC = 0x41434352;
  public static final int FOOTER_MAGIC = ~MAGIC;
  public static final int FOOTER_LENGTH = 16;
  static final int ALGORITHM_CRC32C = 0;
  private static final int MAX_KIND_LENGTH = 32;

  private ImageFraming() {}

  /** What a header says. */
  public record Header(ImageKind kind, int version, CheckpointId id, int length) {}

  public static int headerLength(ImageKind kind) {
    return 4 + 1 + kind.formatName().length() + 4 + CheckpointId.LENGTH;
  }

  public static void writeHeader(ByteBuffer out, ImageKind kind, int version, CheckpointId id) {
    byte[] name = kind.formatName().getBytes(StandardCharsets.US_ASCII);
    out.putInt(MAGIC).put((byte) name.length).put(name).putInt(version).put(id.bytes());
  }

  /**
   * Reads a header and checks its magic and that it is of the expected kind. The version is
   * checked separately ({@link #checkVersion}) so that readers can first verify the checksum.
   */
  public static Header readHeader(ByteBuffer in, String file, ImageKind expected) {
    int start = in.position();
    if (in.remaining() < 4) {
      throw new CorruptImageException(file, "truncated header: length=" + in.remaining());
    }
    int magic = in.getInt();
    if (magic != MAGIC) {
      throw new CorruptImageException(file, String.format(
          "not an accr image: magic actual=0x%08x expected=0x%08x", magic, MAGIC));
    }
    if (in.remaining() < 1) {
      throw new CorruptImageException(file, "truncated header");
    }
    int nameLength = in.get() & 0xff;
    if (nameLength == 0 || nameLength > MAX_KIND_LENGTH) {
      throw new CorruptImageException(file, "image kind length: actual=" + nameLength
          + " expected=1.." + MAX_KIND_LENGTH);
    }
    if (in.remaining() < nameLength + 4 + CheckpointId.LENGTH) {
      throw new CorruptImageException(file, "truncated header");
    }
    byte[] name = new byte[nameLength];
    in.get(name);
    String formatName = new String(name, StandardCharsets.ISO_8859_1); // one char per byte
    ImageKind kind = ImageKind.ofFormatName(formatName, file);
    if (expected != null && kind != expected) {
      throw new CorruptImageException(file, "image kind: actual=" + formatName + " expected="
          + expected.formatName());
    }
    int version = in.getInt();
    byte[] id = new byte[CheckpointId.LENGTH];
    in.get(id);
    return new Header(kind, version, CheckpointId.of(id), in.position() - start);
  }

  /** Checks a header's version against what this build reads (exit code 4 when outside). */
  public static void checkVersion(Header header, String file) {
    int v = header.version();
    if (v < ImageKind.VERSION_START || v > ImageKind.VERSION_CURRENT) {
      throw new AccrException(AccrException.INCOMPATIBLE, String.format(
          "image format too %s: version actual=%d expected=%d..%d (%s)",
          v < ImageKind.VERSION_START ? "old" : "new", v, ImageKind.VERSION_START,
          ImageKind.VERSION_CURRENT, file));
    }
  }

  /** Checks that a file belongs to the set with id {@code expected}. */
  public static void checkId(Header header, CheckpointId expected, String file) {
    if (expected != null && !expected.equals(header.id())) {
      throw new CorruptImageException(file, "checkpoint id: actual=" + header.id() + " expected="
          + expected + " (file of another image set)");
    }
  }

  public static void writeFooter(ByteBuffer out, long checksum) {
    out.putInt(FOOTER_MAGIC).putInt(ALGORITHM_CRC32C).putLong(checksum);
  }

  /** Reads a footer and returns the checksum it records. */
  public static long readFooter(ByteBuffer in, String file) {
    if (in.remaining() < FOOTER_LENGTH) {
      throw new CorruptImageException(file, "truncated footer: length=" + in.remaining());
    }
    int magic = in.getInt();
    if (magic != FOOTER_MAGIC) {
      throw new CorruptImageException(file, String.format(
          "footer magic: actual=0x%08x expected=0x%08x (truncated or corrupt)", magic, FOOTER_MAGIC));
    }
    int algorithm = in.getInt();
    if (algorithm != ALGORITHM_CRC32C) {
      throw new CorruptImageException(file, "checksum algorithm: actual=" + algorithm
          + " expected=" + ALGORITHM_CRC32C);
    }
    long checksum = in.getLong();
    if ((checksum & 0xFFFFFFFF00000000L) != 0) {
      throw new CorruptImageException(file, String.format("checksum: illegal value 0x%x", checksum));
    }
    return checksum;
  }

  /** Compares a recorded checksum with the computed one. */
  public static void checkChecksum(long recorded, long computed, String file) {
    if (recorded != computed) {
      throw new CorruptImageException(file, String.format(
          "checksum failed: actual=0x%08x expected=0x%08x", computed, recorded));
    }
  }
}
