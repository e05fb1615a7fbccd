package dev.accr.node;

import dev.accr.api.AccrException;

/**
 * The sender of an image set sent nothing for the node's idle limit (it hung, or its host
 * vanished without closing its socket): the set is dropped.
 */
final class SenderSilent extends AccrException {
  private final String reason;

  /** {@code reason}: what did not come, and for how long. */
  SenderSilent(String shownAs, String reason) {
    super(FAILED, "receiving " + shownAs + ": " + reason);
    this.reason = reason;
  }

  String reason() {
    return reason;
  }
}
