package dev.accr.node;

import java.time.Duration;
import java.time.Instant;
import java.util.function.Consumer;

/**
 * What a node grants one connection: a request of at most {@code maxRequestBytes}, read in full
 * (TLS handshake included) within {@code requestTimeout} of the connection, and at most
 * {@code maxPending} connections waiting for their request at once. Connections refused or
 * dropped are told to {@code log}, one line each.
 */
public record ServerLimits(int maxRequestBytes, Duration requestTimeout, int maxPending,
    Consumer<String> log) {
  public static final int MAX_REQUEST_BYTES = 1 << 20;
  public static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
  public static final int MAX_PENDING = 1024;

  /** 1 MiB, 10 s, 1024 pending connections; the log is standard error (the node's log file). */
  public static ServerLimits defaults() {
    return new ServerLimits(MAX_REQUEST_BYTES, REQUEST_TIMEOUT, MAX_PENDING,
        line -> System.err.println(Instant.now() + " " + line));
  }

  public ServerLimits withRequestTimeout(Duration timeout) {
    return new ServerLimits(maxRequestBytes, timeout, maxPending, log);
  }

  public ServerLimits withMaxRequestBytes(int bytes) {
    return new ServerLimits(bytes, requestTimeout, maxPending, log);
  }

  /** Log lines go to {@code sink} instead, each prefixed with the time. */
  public ServerLimits withLog(Consumer<String> sink) {
    return new ServerLimits(maxRequestBytes, requestTimeout, maxPending,
        line -> sink.accept(Instant.now() + " " + line));
  }
}
