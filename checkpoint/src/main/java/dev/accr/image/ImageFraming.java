package dev.accr.image;

import dev.accr.api.AccrException;
import dev.accr.api.CorruptImageException;
import dev.accr.api.Untrusted;
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

  /** The first version whose headers name their file (the binding). */
  public static final int VERSION_BOUND = 3;
  /** The longest file name a header binds to. */
  public static final int MAX_BOUND_NAME = 255;
  /** The longest header of any kind and version this build reads. */
  public static final int MAX_HEADER_LENGTH = 4 + 1 + MAX_KIND_LENGTH + 4 + CheckpointId.LENGTH
      + 1 + MAX_BOUND_NAME;

  /**
   * What a header says. From {@link #VERSION_BOUND} on, a header names the file it was
   * written as ({@code boundName}), so that a file copied over another file of the same set,
   * of the same kind and checkpoint id, is refused; null in older versions.
   */
  public record Header(ImageKind kind, int version, CheckpointId id, String boundName,
      int length) {}

  /** The length of a header of {@code kind} and {@code version} bound to file {@code name}. */
  public static int headerLength(ImageKind kind, int version, String name) {
    return 4 + 1 + kind.formatName().length() + 4 + CheckpointId.LENGTH
        + (version >= VERSION_BOUND ? 1 + name.length() : 0);
  }

  /**
   * Writes a header; from {@link #VERSION_BOUND} on it names the file {@code name} (a plain
   * file name of printable ASCII, at most {@link #MAX_BOUND_NAME} characters).
   */
  public static void writeHeader(ByteBuffer out, ImageKind kind, int version, CheckpointId id,
      String name) {
    byte[] kindName = kind.formatName().getBytes(StandardCharsets.US_ASCII);
    out.putInt(MAGIC).put((byte) kindName.length).put(kindName).putInt(version).put(id.bytes());
    if (version >= VERSION_BOUND) {
      if (name == null || name.isEmpty() || name.length() > MAX_BOUND_NAME
          || !name.chars().allMatch(c -> c > 0x20 && c < 0x7f && c != '/')) {
        throw new IllegalArgumentException("not a file name a header can bind to: "
            + Untrusted.quote(name));
      }
      out.put((byte) name.length()).put(name.getBytes(StandardCharsets.US_ASCII));
    }
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
    String bound = null;
    // A newer version's header may be laid out differently: checkVersion refuses it.
    if (version >= VERSION_BOUND && version <= ImageKind.VERSION_CURRENT) {
      int boundLength = in.hasRemaining() ? in.get() & 0xff : 0;
      if (boundLength == 0 || in.remaining() < boundLength) {
        throw new CorruptImageException(file, "truncated header: file name length "
            + boundLength);
      }
      byte[] boundName = new byte[boundLength];
      in.get(boundName);
      bound = new String(boundName, StandardCharsets.ISO_8859_1);
    }
    return new Header(kind, version, CheckpointId.of(id), bound, in.position() - start);
  }

  /**
   * Checks that a file is the one its header names ({@code name}, the name it is read as);
   * headers of versions before {@link #VERSION_BOUND} name none.
   */
  public static void checkBinding(Header header, String name, String file) {
    if (header.boundName() != null && !header.boundName().equals(name)) {
      throw new CorruptImageException(file, "file name: the header names "
          + Untrusted.quote(header.boundName()) + " (a file copied over another?)");
    }
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
