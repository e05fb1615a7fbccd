package dev.accr.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * When pre-copy rounds stop, and when one more goes after a slow load on the target: only
 * after rounds that converged, once, and never past the last round allowed.
 */
class PreCopyRoundsTest {
  private static final long MIB = 1 << 20;
  private static final long SLOW = PreCopyRounds.RESEND_AFTER_US + 1;

  @Test
  void roundsGoOnWhileTheyShrinkAndStopWhenOneIsSmall() {
    PreCopyRounds r = new PreCopyRounds(8, 16 * MIB);
    assertTrue(r.more(1024 * MIB));
    assertTrue(r.more(300 * MIB));
    assertTrue(r.more(100 * MIB));
    assertFalse(r.more(10 * MIB), "small enough");
    assertFalse(r.resend(PreCopyRounds.RESEND_AFTER_US), "the target loaded them soon enough");
    assertEquals(PreCopyRounds.End.CONVERGED, r.end());
  }

  @Test
  void aSlowLoadAfterConvergedRoundsSendsOneMoreRoundOnce() {
    PreCopyRounds r = new PreCopyRounds(8, 16 * MIB);
    assertTrue(r.more(1024 * MIB));
    assertFalse(r.more(10 * MIB));
    assertTrue(r.resend(SLOW), "what was written while the target loaded goes too");
    // The round after the wait is not held to shrinking below the small one.
    assertFalse(r.more(12 * MIB));
    assertFalse(r.resend(SLOW), "one more round at most");
    assertEquals(PreCopyRounds.End.CONVERGED, r.end());
  }

  @Test
  void roundsThatDoNotShrinkStopWithNoRoundAfterASlowLoad() {
    // A process that rewrites all its memory every step (kfd-train): every round is as large.
    PreCopyRounds r = new PreCopyRounds(8, 16 * MIB);
    assertTrue(r.more(3072 * MIB));
    assertFalse(r.more(3000 * MIB), "no convergence: the stop comes now");
    assertFalse(r.resend(10 * SLOW), "one more round would be as large and load as slowly");
    assertEquals(PreCopyRounds.End.NOT_CONVERGING, r.end());
  }

  @Test
  void theLastRoundAllowedEndsTheRoundsWhateverTheLoad() {
    PreCopyRounds r = new PreCopyRounds(2, 16 * MIB);
    assertTrue(r.more(1024 * MIB));
    assertFalse(r.more(8 * MIB));
    assertFalse(r.resend(SLOW), "no round is left");
    assertEquals(PreCopyRounds.End.CONVERGED, r.end());
  }

  @Test
  void roundsStillShrinkingAtTheLastAllowedEndAtMaxRounds() {
    PreCopyRounds r = new PreCopyRounds(2, 16 * MIB);
    assertTrue(r.more(1024 * MIB));
    assertFalse(r.more(512 * MIB));
    assertEquals(PreCopyRounds.End.MAX_ROUNDS, r.end());
  }

  @Test
  void aRoundThatDoesNotShrinkIsNotConvergingEvenAsTheLastAllowed() {
    PreCopyRounds r = new PreCopyRounds(2, 16 * MIB);
    assertTrue(r.more(1024 * MIB));
    assertFalse(r.more(1000 * MIB));
    assertEquals(PreCopyRounds.End.NOT_CONVERGING, r.end());
  }
}
