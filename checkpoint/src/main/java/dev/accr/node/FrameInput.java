package dev.accr.node;

import dev.accr.api.AccrException;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;

/**
 * Reads the frames of one stream of an image set ({@link SetFrames}) through one buffer: from a
 * channel into a native buffer when the connection has one (no copy on the way to the file),
 * else from the connection's input. A data frame's bytes are handed on in the pieces the buffer
 * holds, never gathered whole. A sender may stay silent for a while (it may be freezing a
 * process, or copying VRAM), up to an idle limit.
 */
final class FrameInput {
  /** Bytes read at most per read: several chunks of a dump. */
  private static final int BUFFER = 1 << 20;
  /** How long the sender may stay silent. */
  static final long IDLE_LIMIT_NANOS = 120_000_000_000L;

  /** Takes a piece of a data frame (position to limit). */
  @FunctionalInterface
  interface Pieces {
    void accept(ByteBuffer piece) throws IOException;
  }

  private final Inbound inbound;
  /** Unread bytes are from position to limit. */
  private final ByteBuffer buffer;

  FrameInput(Inbound inbound) {
    this.inbound = inbound;
    this.buffer = (inbound.channel() != null ? ByteBuffer.allocateDirect(BUFFER)
        : ByteBuffer.allocate(BUFFER)).limit(0);
  }

  /** The next frame's type, or -1 at the end of the stream. */
  int type() throws IOException {
    if (!buffer.hasRemaining() && !fill(true)) {
      return -1;
    }
    return buffer.get() & 0xff;
  }

  int readInt() throws IOException {
    need(4);
    return buffer.getInt();
  }

  int readUnsignedShort() throws IOException {
    need(2);
    return buffer.getShort() & 0xffff;
  }

  byte[] readBytes(int length) throws IOException {
    byte[] bytes = new byte[length];
    int done = 0;
    while (done < length) {
      if (!buffer.hasRemaining()) {
        fill(false);
      }
      int n = Math.min(buffer.remaining(), length - done);
      buffer.get(bytes, done, n);
      done += n;
    }
    return bytes;
  }

  /**
   * Hands the next {@code length} bytes to {@code pieces} as they arrive, in pieces as large as
   * the buffer allows (a TLS socket gives a record at a time).
   */
  void payload(int length, Pieces pieces) throws IOException {
    int left = length;
    while (left > 0) {
      if (!buffer.hasRemaining()) {
        fill(false);
        int wanted = Math.min(left, buffer.capacity());
        while (buffer.remaining() < wanted) {
          fill(false);
        }
      }
      int n = Math.min(buffer.remaining(), left);
      ByteBuffer piece = buffer.slice(buffer.position(), n);
      buffer.position(buffer.position() + n);
      pieces.accept(piece);
      left -= n;
    }
  }

  private void need(int n) throws IOException {
    while (buffer.remaining() < n) {
      fill(false);
    }
  }

  /**
   * Reads what comes next behind the unread bytes; false at the end of the stream when
   * {@code endAllowed}, else the end is an {@link EOFException}.
   */
  private boolean fill(boolean endAllowed) throws IOException {
    buffer.compact();
    try {
      long since = System.nanoTime();
      while (true) {
        int n;
        try {
          n = read();
        } catch (SocketTimeoutException e) {
          if (System.nanoTime() - since > IDLE_LIMIT_NANOS) {
            throw AccrException.failed("receiving a set: the sender was silent for %d s",
                IDLE_LIMIT_NANOS / 1_000_000_000L);
          }
          continue;
        }
        if (n < 0) {
          if (endAllowed && buffer.position() == 0) {
            return false;
          }
          throw new EOFException();
        }
        if (n > 0) {
          return true;
        }
      }
    } finally {
      buffer.flip();
    }
  }

  private int read() throws IOException {
    if (inbound.channel() != null) {
      return inbound.channel().read(buffer);
    }
    int n = inbound.in().read(buffer.array(), buffer.arrayOffset() + buffer.position(),
        buffer.remaining());
    if (n > 0) {
      buffer.position(buffer.position() + n);
    }
    return n;
  }
}
