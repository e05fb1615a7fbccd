package dev.accr.node;

import com.google.protobuf.CodedInputStream;
import dev.accr.proto.Request;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

/**
 * Reads one length-delimited request, checking its length before reading it: no request makes
 * the node allocate more than the bound.
 */
final class RequestReader {
  /** The first byte of a TLS handshake record (a protobuf request never starts a record so). */
  static final int TLS_HANDSHAKE = 0x16;
  /** A TLS record is at most 2^14 bytes of payload plus some overhead. */
  private static final int MAX_TLS_RECORD = (1 << 14) + 2048;

  private RequestReader() {}

  /** A length prefix beyond the bound: the request is not read. */
  static final class TooLarge extends IOException {
    TooLarge(long length, int bound) {
      super("request of " + length + " bytes exceeds the bound of " + bound + " bytes");
    }
  }

  /** A TLS client on a plain listener; its hello has been read in full. */
  static final class TlsHello extends IOException {
    TlsHello() {
      super("a TLS client on a listener without TLS");
    }
  }

  /** The next request, or null at the end of the stream before any byte. */
  static Request read(InputStream in, int bound) throws IOException {
    int first = in.read();
    if (first == -1) {
      return null;
    }
    long length = CodedInputStream.readRawVarint32(first, in) & 0xffffffffL;
    if (length > bound) {
      throw new TooLarge(length, bound);
    }
    byte[] bytes = in.readNBytes((int) length);
    if (bytes.length < length) {
      throw new EOFException("request cut short after " + bytes.length + " of " + length
          + " bytes");
    }
    if (first == TLS_HANDSHAKE && bytes.length >= 4 && bytes[0] == 3) {
      // 0x16 0x03 0x0N LEN LEN: a TLS record header. Read the rest of the record so that the
      // answer is not lost in a reset.
      int record = ((bytes[2] & 0xff) << 8) | (bytes[3] & 0xff);
      in.readNBytes(Math.max(0, Math.min(record, MAX_TLS_RECORD) + 5 - 1 - bytes.length));
      throw new TlsHello();
    }
    return Request.parseFrom(bytes);
  }
}
