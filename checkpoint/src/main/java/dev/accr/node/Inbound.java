package dev.accr.node;

import java.io.InputStream;
import java.nio.channels.ReadableByteChannel;

/**
 * The receiving side of a connection to a node, after its request: its input, the channel
 * under it when bytes can be read straight into native buffers (a UNIX socket), and how to stop
 * a read under way from another thread (the read then ends or fails).
 *
 * @param in the connection's input
 * @param channel the same bytes as a channel, or null (a TLS or plain TCP socket)
 * @param stop ends the input: reads under way and later return the end or fail
 */
public record Inbound(InputStream in, ReadableByteChannel channel, Stop stop) {
  /** Ends a connection's input. */
  @FunctionalInterface
  public interface Stop {
    void stop() throws java.io.IOException;
  }

  /** An input with no channel, stopped by closing it. */
  public static Inbound of(InputStream in) {
    return new Inbound(in, null, in::close);
  }
}
