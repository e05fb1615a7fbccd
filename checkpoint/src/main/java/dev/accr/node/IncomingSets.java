package dev.accr.node;

import com.google.protobuf.ByteString;
import java.security.SecureRandom;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The image sets a node is receiving over several streams, by the key their further streams
 * join with: random, never reused, and good only for the sender's own identity.
 */
final class IncomingSets {
  private static final int KEY_BYTES = 16;

  private final Map<ByteString, IncomingSet> sets = new ConcurrentHashMap<>();
  private final SecureRandom random = new SecureRandom();

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
