package dev.accr.node;

import java.time.Duration;
import java.time.Instant;
import java.util.function.Consumer;

/**
 * What a node grants one connection: a request of at most {@code maxRequestBytes}, read in full
 * (TLS handshake included) within {@code requestTimeout} of the connection. At most
 * {@code maxPending} connections of each listener wait for their request at once, and at most
 * {@code maxPendingPerPeer} TCP connections of one peer address, so that no remote peer can keep
 * out local clients or other peers. Connections refused or dropped are told to {@code log}, one
 * line each.
 */
public record ServerLimits(int maxRequestBytes, Duration requestTimeout, int maxPending,
    int maxPendingPerPeer, Consumer<String> log) {
  public static final int MAX_REQUEST_BYTES = 1 << 20;
  public static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
  public static final int MAX_PENDING = 1024;
  public static final int MAX_PENDING_PER_PEER = 32;

  /**
   * 1 MiB, 10 s, 1024 pending connections per listener and 32 per TCP peer; the log is standard
   * error (the node's log file).
   */
  public static ServerLimits defaults() {
    return new ServerLimits(MAX_REQUEST_BYTES, REQUEST_TIMEOUT, MAX_PENDING, MAX_PENDING_PER_PEER,
        line -> java.util.logging.Logger.getLogger(NodeServer.class.getName()).info(line));
  }

  public ServerLimits withRequestTimeout(Duration timeout) {
    return new ServerLimits(maxRequestBytes, timeout, maxPending, maxPendingPerPeer, log);
  }

  public ServerLimits withMaxRequestBytes(int bytes) {
    return new ServerLimits(bytes, requestTimeout, maxPending, maxPendingPerPeer, log);
  }

  public ServerLimits withMaxPending(int perListener, int perPeer) {
    return new ServerLimits(maxRequestBytes, requestTimeout, perListener, perPeer, log);
  }

  /** Log lines go to {@code sink} instead, each prefixed with the time. */
  public ServerLimits withLog(Consumer<String> sink) {
    return new ServerLimits(maxRequestBytes, requestTimeout, maxPending, maxPendingPerPeer,
        line -> sink.accept(Instant.now() + " " + line));
  }
}
