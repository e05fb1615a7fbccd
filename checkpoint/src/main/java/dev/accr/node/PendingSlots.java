package dev.accr.node;

import java.util.HashMap;
import java.util.Map;

/**
 * The connections of one listener that wait for their request: at most {@code max} in all and
 * at most {@code perPeer} of one peer address, so that one peer holding silent connections
 * cannot keep others out.
 */
final class PendingSlots {
  private final int max;
  private final int perPeer;
  private final Map<String, Integer> byPeer = new HashMap<>();
  private int taken;

  PendingSlots(int max, int perPeer) {
    this.max = max;
    this.perPeer = perPeer;
  }

  /** A slot for a connection of {@code peer}, or null with the reason logged by the caller. */
  synchronized Slot take(String peer) {
    if (taken >= max || byPeer.getOrDefault(peer, 0) >= perPeer) {
      return null;
    }
    taken++;
    byPeer.merge(peer, 1, Integer::sum);
    return new Slot(peer);
  }

  /** Why {@link #take} refused {@code peer}, for the log. */
  synchronized String refusal(String peer) {
    return taken >= max ? max + " connections already wait for their request"
        : perPeer + " connections of " + peer + " already wait for their request";
  }

  private synchronized void release(String peer) {
    taken--;
    byPeer.computeIfPresent(peer, (p, n) -> n == 1 ? null : n - 1);
  }

  /** One taken slot; released once, by the deadline or by the request's arrival. */
  final class Slot {
    private final String peer;
    private boolean released;

    private Slot(String peer) {
      this.peer = peer;
    }

    void release() {
      synchronized (PendingSlots.this) {
        if (!released) {
          released = true;
          PendingSlots.this.release(peer);
        }
      }
    }
  }
}
