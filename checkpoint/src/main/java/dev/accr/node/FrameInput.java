package dev.accr.node;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;

/**
 * Reads the frames of one stream of an image set ({@link SetFrames}) through one buffer: from a
 * channel into a native buffer when the connection has one (no copy on the way to the file),
 * else from the connection's input. A data frame's bytes are handed on in the pieces the buffer
 * holds, never gathered whole. A sender may stay silent for a while (it may be freezing a
 * process, or copying VRAM), up to an idle limit: a read that waits longer is ended
 * ({@link ReadWatch}), over a UNIX socket as over TCP, and fails with {@link SenderSilent}.
 */
final class FrameInput implements AutoCloseable {
  /** Bytes read at most per read: several chunks of a dump. */
  private static final int BUFFER = 1 << 20;

  /** Takes a piece of a data frame (position to limit). */
  @FunctionalInterface
  interface Pieces {
    void accept(ByteBuffer piece) throws IOException;
  }

  private final Inbound inbound;
  private final IncomingSet set;
  private final ReadWatch watch;
  /** Unread bytes are from position to limit. */
  private final ByteBuffer buffer;

  /**
   * Reads frames of {@code set} from {@code inbound}, waiting at most the set's idle limit with
   * nothing heard on any of its streams; {@link #close} it.
   */
  FrameInput(Inbound inbound, IncomingSet set) {
    this.inbound = inbound;
    this.set = set;
    this.buffer = (inbound.channel() != null ? ByteBuffer.allocateDirect(BUFFER)
        : ByteBuffer.allocate(BUFFER)).limit(0);
    this.watch = new ReadWatch("set-stream", set.idleLimit(), inbound.stop(), set::lastHeard);
  }

  @Override
  public void close() {
    watch.close();
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
   * {@code endAllowed}, else the end is an {@link EOFException}. The unread bytes move to the
   * buffer's front only when nothing more fits behind them: a payload gathered from many small
   * reads (a TLS socket gives a record at a time) is then copied once, not at every read.
   */
  private boolean fill(boolean endAllowed) throws IOException {
    int unreadFrom = buffer.position();
    if (!buffer.hasRemaining()) {
      buffer.clear(); // nothing unread: all of it to read into
      unreadFrom = 0;
    } else if (buffer.limit() == buffer.capacity()) {
      buffer.compact(); // from position to limit, to the front; ready to read behind them
      unreadFrom = 0;
    } else {
      buffer.position(buffer.limit()).limit(buffer.capacity());
    }
    watch.waiting();
    try {
      while (true) {
        int n;
        try {
          n = read();
        } catch (SocketTimeoutException e) {
          continue; // a TCP socket's timeout: the watch says when the sender is silent too long
        } catch (IOException e) {
          if (watch.expired()) {
            throw silent();
          }
          throw e;
        }
        if (n < 0) {
          if (watch.expired()) {
            throw silent();
          }
          if (endAllowed && buffer.position() == unreadFrom) {
            return false;
          }
          throw new EOFException();
        }
        if (n > 0) {
          set.heard();
          return true;
        }
      }
    } finally {
      watch.over();
      buffer.limit(buffer.position()).position(unreadFrom);
    }
  }

  private SenderSilent silent() {
    return new SenderSilent(set.shownAs(), "the sender sent nothing for "
        + ServerLimits.seconds(watch.limit()));
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
