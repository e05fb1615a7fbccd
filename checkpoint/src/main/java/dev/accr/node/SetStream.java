package dev.accr.node;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One connection of an image set being sent ({@link SetFrames}), written by one thread at a
 * time, each frame whole. Small frames gather in a buffer; a data frame goes out with them at
 * once. Over a UNIX socket the data goes from the caller's buffers into the socket in one
 * gathering write, without a copy; over TCP (and TLS) it is copied into the buffer, so that
 * the socket gets large writes (full TLS records).
 */
final class SetStream {
  /** Small frames, and over TCP the data on its way to the socket. */
  private static final int BUFFER = 1 << 20;

  private final NodeClient.Connection connection;
  private final GatheringByteChannel channel;
  private final ByteBuffer buffer;
  private final List<ByteBuffer> gather = new ArrayList<>();

  SetStream(NodeClient.Connection connection) {
    this.connection = connection;
    this.channel = connection.closer() instanceof GatheringByteChannel ch ? ch : null;
    this.buffer = ByteBuffer.allocate(channel != null ? 64 << 10 : BUFFER);
  }

  NodeClient.Connection connection() {
    return connection;
  }

  /**
   * Opens file {@code file} named {@code name} on this connection, with its first bytes,
   * {@code first} (position to limit, small, numbered from {@code turns} when not null), which
   * go out with the next frame sent.
   */
  synchronized void open(int file, byte[] name, AtomicInteger turns, ByteBuffer first)
      throws IOException {
    room(7 + name.length + 13 + first.remaining());
    buffer.put((byte) SetFrames.OPEN).putInt(file).putShort((short) name.length).put(name);
    if (first.hasRemaining() && turns == null) {
      buffer.put((byte) SetFrames.DATA).putInt(file).putInt(first.remaining()).put(first);
    } else if (first.hasRemaining()) {
      buffer.put((byte) SetFrames.DATA_AT).putInt(file).putInt(turns.incrementAndGet())
          .putInt(first.remaining()).put(first);
    }
  }

  /**
   * Closes {@code file}: in its turn {@code turn} (a set over several connections; the frame is
   * flushed), or with a plain Close (turn 0, buffered).
   */
  synchronized void close(int file, int turn) throws IOException {
    room(9);
    if (turn == 0) {
      buffer.put((byte) SetFrames.CLOSE).putInt(file);
      return;
    }
    buffer.put((byte) SetFrames.CLOSE_AT).putInt(file).putInt(turn);
    flush();
  }

  /**
   * Sends {@code total} bytes of {@code srcs} (from offset, length buffers) as the next data of
   * {@code file}, in frames of at most {@link SetFrames#MAX_DATA}, and flushes: the receiver
   * never waits in the middle of a frame. With {@code turns} (a set over several connections)
   * each frame is numbered with the file's next turn.
   */
  synchronized void data(int file, AtomicInteger turns, ByteBuffer[] srcs, int offset,
      int length, long total) throws IOException {
    int next = offset;
    for (long left = total; left > 0; ) {
      int frame = (int) Math.min(left, SetFrames.MAX_DATA);
      room(13);
      if (turns == null) {
        buffer.put((byte) SetFrames.DATA).putInt(file).putInt(frame);
      } else {
        buffer.put((byte) SetFrames.DATA_AT).putInt(file).putInt(turns.incrementAndGet())
            .putInt(frame);
      }
      int taken = 0;
      gather.clear();
      while (taken < frame) {
        ByteBuffer b = srcs[next];
        int n = Math.min(b.remaining(), frame - taken);
        if (n == 0) {
          next++;
          continue;
        }
        gather.add(b.slice(b.position(), n));
        b.position(b.position() + n);
        taken += n;
      }
      send(gather);
      left -= frame;
    }
  }

  /** Sends the last frame of the first connection: the commit of the set. */
  synchronized void commit(byte[] inventory) throws IOException {
    room(5);
    buffer.put((byte) SetFrames.COMMIT).putInt(inventory.length);
    send(List.of(ByteBuffer.wrap(inventory)));
  }

  /** Sends the last frame of a further connection, after its files. */
  synchronized void end() throws IOException {
    room(1);
    buffer.put((byte) SetFrames.END);
    flush();
  }

  synchronized void abort() throws IOException {
    room(1);
    buffer.put((byte) SetFrames.ABORT);
    flush();
  }

  /** Makes room for {@code n} bytes of a frame's head (far less than the buffer). */
  private void room(int n) throws IOException {
    if (buffer.remaining() < n) {
      drain();
    }
  }

  /** Sends what the buffer holds, then {@code data}. */
  private void send(List<ByteBuffer> data) throws IOException {
    if (channel != null) {
      ByteBuffer[] all = new ByteBuffer[data.size() + 1];
      all[0] = buffer.flip();
      for (int i = 0; i < data.size(); i++) {
        all[i + 1] = data.get(i);
      }
      long left = 0;
      for (ByteBuffer b : all) {
        left += b.remaining();
      }
      while (left > 0) {
        left -= channel.write(all);
      }
      buffer.clear();
      return;
    }
    for (ByteBuffer d : data) {
      while (d.hasRemaining()) {
        if (!buffer.hasRemaining()) {
          drain();
        }
        int n = Math.min(d.remaining(), buffer.remaining());
        d.get(buffer.array(), buffer.arrayOffset() + buffer.position(), n);
        buffer.position(buffer.position() + n);
      }
    }
    flush();
  }

  private void flush() throws IOException {
    drain();
    if (channel == null) {
      connection.out().flush();
    }
  }

  /** Writes the buffer out. */
  private void drain() throws IOException {
    buffer.flip();
    if (channel != null) {
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
    } else if (buffer.hasRemaining()) {
      connection.out().write(buffer.array(), buffer.arrayOffset() + buffer.position(),
          buffer.remaining());
    }
    buffer.clear();
  }
}
