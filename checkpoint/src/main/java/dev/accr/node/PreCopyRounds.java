package dev.accr.node;

/**
 * When a pre-copy migration stops sending rounds. Rounds go on while each sends fewer bytes
 * than {@link #SHRINK} of the one before; they stop once a round is small enough (it
 * converged), does not shrink (the process writes as fast as rounds go: more would not make
 * the stop shorter) or was the last allowed. Then the source waits for the target to load what
 * it received; when that took long and the rounds had converged, what the process wrote
 * meanwhile goes in one more round, once. After rounds that did not shrink it does not: that
 * round would be as large as the last and its loading as slow.
 */
final class PreCopyRounds {
  /** A round that does not shrink to this fraction of the one before ends the rounds. */
  static final double SHRINK = 0.7;
  /** After waiting this long for the target to load the rounds, one more round may go. */
  static final long RESEND_AFTER_US = 200_000;

  /** Why the rounds ended, as {@code MigrateReply.rounds_end} gives it. */
  enum End {
    /** The last round was smaller than the small-round size. */
    CONVERGED("converged"),
    /**
     * The last round did not shrink against the one before: the process writes its memory as
     * fast as rounds send it, and the stop sends about as much as a cold migration's.
     */
    NOT_CONVERGING("not-converging"),
    /** The rounds still shrank when the last one allowed was sent. */
    MAX_ROUNDS("max-rounds");

    final String label;

    End(String label) {
      this.label = label;
    }
  }

  private final int maxRounds;
  private final long smallRoundBytes;
  private int sent;
  private long previous = Long.MAX_VALUE;
  private boolean converged;
  private boolean shrank = true;
  private boolean resent;

  PreCopyRounds(int maxRounds, long smallRoundBytes) {
    this.maxRounds = maxRounds;
    this.smallRoundBytes = smallRoundBytes;
  }

  /** Records a round that sent {@code bytes}; true when another follows at once. */
  boolean more(long bytes) {
    sent++;
    shrank = bytes <= previous * SHRINK;
    previous = bytes;
    converged = bytes < smallRoundBytes;
    return sent < maxRounds && !converged && shrank;
  }

  /** Why the rounds recorded so far ended (once {@link #more} said no more follow). */
  End end() {
    return converged ? End.CONVERGED : !shrank ? End.NOT_CONVERGING : End.MAX_ROUNDS;
  }

  /**
   * The rounds stopped and the target took {@code waitedUs} to load them: true when one more
   * round goes (the process then goes on being pre-copied as before).
   */
  boolean resend(long waitedUs) {
    if (waitedUs <= RESEND_AFTER_US || !converged || resent || sent >= maxRounds) {
      return false;
    }
    resent = true;
    previous = Long.MAX_VALUE; // the round after the wait is not compared with the small one
    return true;
  }
}
