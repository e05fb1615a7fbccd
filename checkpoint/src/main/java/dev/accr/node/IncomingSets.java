package dev.accr.node;

import com.google.protobuf.ByteString;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The image sets a node is receiving over several streams, by the key their further streams
 * join with: random, never reused, and good only for the sender's own identity. Also what every
 * set received here is granted: how long its sender may send nothing, and where a set dropped
 * for that is logged (the node's {@link ServerLimits}).
 */
final class IncomingSets {
  private static final int KEY_BYTES = 16;

  private final Map<ByteString, IncomingSet> sets = new ConcurrentHashMap<>();
  private final SecureRandom random = new SecureRandom();
  private volatile ServerLimits limits = ServerLimits.defaults();

  /** Sets received from now on have the idle limit and log of {@code limits}. */
  void limits(ServerLimits limits) {
    this.limits = limits;
  }

  /** How long a sender may send nothing before its set is dropped. */
  Duration senderIdleTimeout() {
    return limits.senderIdleTimeout();
  }

  /** Logs one line: a set was dropped because its sender fell silent. */
  void logSilent(String shownAs, Caller sender, SenderSilent e) {
    limits.log().accept("dropped the set " + shownAs + " from " + sender.address() + ": "
        + e.reason());
  }

  /** Makes {@code set} joinable; returns its key. */
  ByteString register(IncomingSet set) {
    while (true) {
      byte[] key = new byte[KEY_BYTES];
      random.nextBytes(key);
      ByteString k = ByteString.copyFrom(key);
      if (sets.putIfAbsent(k, set) == null) {
        return k;
      }
    }
  }

  /** The set of {@code key}, or null. */
  IncomingSet find(ByteString key) {
    return sets.get(key);
  }

  void remove(ByteString key) {
    sets.remove(key);
  }
}
