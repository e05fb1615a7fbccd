package dev.accr.image;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.MessageLite;
import com.google.protobuf.UnsafeByteOperations;
import dev.accr.api.CorruptImageException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Writes and reads entry files: a framed body of length-delimited protobuf entries. These are
 * the metadata files of a set; they are small and read whole, checksum first.
 */
public final class EntryImageCodec {
  /** Metadata files larger than this are refused before being read. */
  public static final long MAX_FILE_BYTES = 256L << 20;

  private EntryImageCodec() {}

  /** Encodes entries into the bytes of the file {@code name}. */
  public static byte[] encode(ImageKind kind, int version, CheckpointId id, String name,
      List<? extends MessageLite> entries) {
    return encodeRaw(kind, version, id, name,
        entries.stream().map(MessageLite::toByteString).toList());
  }

  /** Encodes entries, already serialized, into the bytes of the file {@code name}. */
  public static byte[] encodeRaw(ImageKind kind, int version, CheckpointId id, String name,
      List<ByteString> entries) {
    int bodyLength = 0;
    for (ByteString m : entries) {
      int size = m.size();
      bodyLength += CodedOutputStream.computeUInt32SizeNoTag(size) + size;
    }
    int length = ImageFraming.headerLength(kind, version, name) + bodyLength
        + ImageFraming.FOOTER_LENGTH;
    ByteBuffer out = ByteBuffer.allocate(length);
    ImageFraming.writeHeader(out, kind, version, id, name);
    try {
      CodedOutputStream coded = CodedOutputStream.newInstance(out);
      for (ByteString m : entries) {
        coded.writeUInt32NoTag(m.size());
        coded.writeRawBytes(m);
      }
      coded.flush();
    } catch (IOException e) {
      throw new IllegalStateException("encoding into a sized buffer cannot fail", e);
    }
    CRC32C crc = new CRC32C();
    crc.update(out.array(), 0, out.position());
    ImageFraming.writeFooter(out, crc.getValue());
    return out.array();
  }

  /** Writes an entry file of the current version and syncs it. */
  public static void write(Path file, ImageKind kind, CheckpointId id,
      List<? extends MessageLite> entries) throws IOException {
    ImageFiles.writeAndSync(file, encode(kind, ImageKind.VERSION_CURRENT, id,
        file.getFileName().toString(), entries));
  }

  /** Writes the entry file {@code name} of the current version into {@code sink}. */
  public static void write(ImageSink sink, String name, ImageKind kind, CheckpointId id,
      List<? extends MessageLite> entries) throws IOException {
    sink.writeFile(name, encode(kind, ImageKind.VERSION_CURRENT, id, name, entries));
  }

  /**
   * Reads and verifies an entry file of kind {@code expected} (any kind when null) of a set:
   * a header that names a file names this one.
   */
  public static EntryImage read(Path file, ImageKind expected, CheckpointId expectedId)
      throws IOException {
    return decode(ImageFiles.readBounded(file, MAX_FILE_BYTES), ImageFiles.displayName(file),
        expected, expectedId, file.getFileName().toString());
  }

  /** Reads and verifies one entry file on its own, under whatever name it has now. */
  public static EntryImage readAlone(Path file) throws IOException {
    return decode(ImageFiles.readBounded(file, MAX_FILE_BYTES), ImageFiles.displayName(file),
        null, null, null);
  }

  /**
   * Verifies and decodes the bytes of an entry file: magic, then checksum (so that a flipped
   * bit anywhere is reported as corruption), then kind, version, id and the file name the
   * header binds to ({@code name}; not checked when null), then the entries.
   */
  public static EntryImage decode(byte[] bytes, String file, ImageKind expected,
      CheckpointId expectedId, String name) {
    ByteBuffer in = ByteBuffer.wrap(bytes);
    if (bytes.length < ImageFraming.FOOTER_LENGTH + 4) {
      throw new CorruptImageException(file, "file too short: length=" + bytes.length);
    }
    ImageFraming.Header header = ImageFraming.readHeader(in.duplicate(), file, null);
    int footerAt = bytes.length - ImageFraming.FOOTER_LENGTH;
    if (header.length() > footerAt) {
      throw new CorruptImageException(file, "truncated: header and footer overlap");
    }
    long recorded = ImageFraming.readFooter(in.duplicate().position(footerAt), file);
    CRC32C crc = new CRC32C();
    crc.update(bytes, 0, footerAt);
    ImageFraming.checkChecksum(recorded, crc.getValue(), file);
    if (expected != null && header.kind() != expected) {
      throw new CorruptImageException(file, "image kind: actual=" + header.kind().formatName()
          + " expected=" + expected.formatName());
    }
    if (header.kind().body() != ImageKind.Body.ENTRIES) {
      throw new CorruptImageException(file, "not an entry file: kind=" + header.kind().formatName());
    }
    ImageFraming.checkVersion(header, file);
    ImageFraming.checkId(header, expectedId, file);
    if (name != null) {
      ImageFraming.checkBinding(header, name, file);
    }
    return new EntryImage(file, header, readEntries(bytes, header.length(), footerAt, file));
  }

  private static List<ByteString> readEntries(byte[] bytes, int from, int to, String file) {
    List<ByteString> entries = new ArrayList<>();
    CodedInputStream in = CodedInputStream.newInstance(bytes, from, to - from);
    try {
      while (!in.isAtEnd()) {
        int at = from + in.getTotalBytesRead();
        long length = Integer.toUnsignedLong(in.readRawVarint32());
        int dataAt = from + in.getTotalBytesRead();
        if (length > to - dataAt) {
          throw new CorruptImageException(file, String.format(
              "entry length at offset %d: actual=%d exceeds the %d bytes left", at, length,
              to - dataAt));
        }
        // The array is never written again: entries share it instead of copying.
        entries.add(UnsafeByteOperations.unsafeWrap(bytes, dataAt, (int) length));
        in.skipRawBytes((int) length);
      }
    } catch (IOException e) {
      throw new CorruptImageException(file, "malformed entry length: " + e.getMessage(), e);
    }
    return entries;
  }
}
