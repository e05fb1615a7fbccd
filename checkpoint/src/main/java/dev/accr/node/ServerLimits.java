package dev.accr.node;

import java.time.Duration;
import java.time.Instant;
import java.util.function.Consumer;

/**
 * What a node grants one connection: a TLS connection has {@code handshakeTimeout} from its
 * acceptance to complete its handshake (certificate checks and key exchange may take seconds on
 * a loaded machine), then every connection has {@code requestTimeout} to deliver a request of at
 * most {@code maxRequestBytes}, read in full. At most {@code maxPending} connections of each
 * listener wait for their request at once, and at most {@code maxPendingPerPeer} TCP connections
 * of one peer address, so that no remote peer can keep out local clients or other peers. The
 * sender of an image set may send nothing for at most {@code senderIdleTimeout} before the set
 * is dropped. Connections refused or dropped, and sets dropped for a silent sender, are told to
 * {@code log}, one line each.
 */
public record ServerLimits(int maxRequestBytes, Duration requestTimeout,
    Duration handshakeTimeout, int maxPending, int maxPendingPerPeer,
    Duration senderIdleTimeout, Consumer<String> log) {
  public static final int MAX_REQUEST_BYTES = 1 << 20;
  public static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
  public static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(60);
  public static final int MAX_PENDING = 1024;
  public static final int MAX_PENDING_PER_PEER = 32;
  public static final Duration SENDER_IDLE_TIMEOUT = Duration.ofSeconds(120);

  public ServerLimits {
    for (Duration d : new Duration[] {requestTimeout, handshakeTimeout, senderIdleTimeout}) {
      if (d.isNegative() || d.isZero() || d.toMillis() > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("a node's time limit must be positive and under "
            + "24 days: " + d);
      }
    }
  }

  /**
   * 1 MiB, a 60 s handshake then 10 s for the request, 1024 pending connections per listener and
   * 32 per TCP peer, a set sender silent for at most 120 s; the log is standard error (the
   * node's log file).
   */
  public static ServerLimits defaults() {
    return new ServerLimits(MAX_REQUEST_BYTES, REQUEST_TIMEOUT, HANDSHAKE_TIMEOUT, MAX_PENDING,
        MAX_PENDING_PER_PEER, SENDER_IDLE_TIMEOUT,
        line -> java.util.logging.Logger.getLogger(NodeServer.class.getName()).info(line));
  }

  public ServerLimits withRequestTimeout(Duration timeout) {
    return new ServerLimits(maxRequestBytes, timeout, handshakeTimeout, maxPending,
        maxPendingPerPeer, senderIdleTimeout, log);
  }

  public ServerLimits withHandshakeTimeout(Duration timeout) {
    return new ServerLimits(maxRequestBytes, requestTimeout, timeout, maxPending,
        maxPendingPerPeer, senderIdleTimeout, log);
  }

  public ServerLimits withMaxRequestBytes(int bytes) {
    return new ServerLimits(bytes, requestTimeout, handshakeTimeout, maxPending,
        maxPendingPerPeer, senderIdleTimeout, log);
  }

  public ServerLimits withMaxPending(int perListener, int perPeer) {
    return new ServerLimits(maxRequestBytes, requestTimeout, handshakeTimeout, perListener,
        perPeer, senderIdleTimeout, log);
  }

  public ServerLimits withSenderIdleTimeout(Duration timeout) {
    return new ServerLimits(maxRequestBytes, requestTimeout, handshakeTimeout, maxPending,
        maxPendingPerPeer, timeout, log);
  }

  /** Log lines go to {@code sink} instead, each prefixed with the time. */
  public ServerLimits withLog(Consumer<String> sink) {
    return new ServerLimits(maxRequestBytes, requestTimeout, handshakeTimeout, maxPending,
        maxPendingPerPeer, senderIdleTimeout, line -> sink.accept(Instant.now() + " " + line));
  }

  /** {@code d} for a log line: "10 s", "0.5 s". */
  static String seconds(Duration d) {
    return java.math.BigDecimal.valueOf(d.toMillis(), 3).stripTrailingZeros().toPlainString()
        + " s";
  }
}
