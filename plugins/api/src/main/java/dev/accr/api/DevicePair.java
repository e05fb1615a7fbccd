package dev.accr.api;

import java.util.List;

/**
 * Where one device of a checkpoint lands on the target: the id the process knows it by (kept
 * after restore, so the process never notices), its topology node in the image's source
 * topology, the target device's id and topology node, and how the two devices differ (one
 * {@code name: image=X target=Y} string per property that was allowed to differ).
 */
public record DevicePair(String type, int imageId, int imageNode, int targetId, int targetNode,
    List<String> differences) {
  public DevicePair {
    differences = List.copyOf(differences);
  }
}
