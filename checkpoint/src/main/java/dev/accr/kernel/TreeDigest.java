package dev.accr.kernel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The digest of a process tree, built from state the processes keep, as Linux accumulates the
 * resource usage of reaped children: each process holds the sum (four 64-bit lanes, wrapping)
 * of the digests of the descendants reaped into it and their number. Reaping a child adds the
 * child's own digest and the child's sum. Addition commutes, so the result does not depend on
 * the order children are reaped in, nor on which ancestor reaps an orphan: every process of the
 * tree counts exactly once in the root's sum.
 *
 * <p>A process that never reaped anything has its own digest as tree digest: single processes
 * keep the digest they always had.
 */
public final class TreeDigest {
  /** Lanes of the descendant sum: a SHA-256 as four longs. */
  public static final int LANES = 4;

  private TreeDigest() {}

  /**
   * Adds {@code ownDigest} (hex SHA-256, or null for a process that left no digest, as one
   * killed from outside) and {@code childSum} into {@code sum}.
   */
  static void add(long[] sum, String ownDigest, long[] childSum) {
    if (ownDigest != null) {
      ByteBuffer b = ByteBuffer.wrap(HexFormat.of().parseHex(ownDigest))
          .order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < LANES; i++) {
        sum[i] += b.getLong();
      }
    }
    for (int i = 0; i < LANES; i++) {
      sum[i] += childSum[i];
    }
  }

  /** The digest of a tree whose root has {@code ownDigest} and reaped {@code count} descendants. */
  public static String of(String ownDigest, long[] sum, long count) {
    if (count == 0) {
      return ownDigest;
    }
    MessageDigest sha = sha256();
    sha.update("accr process tree".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    sha.update(HexFormat.of().parseHex(ownDigest == null ? "00".repeat(32) : ownDigest));
    ByteBuffer b = ByteBuffer.allocate((LANES + 1) * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    for (long lane : sum) {
      b.putLong(lane);
    }
    b.putLong(count);
    sha.update(b.flip());
    return HexFormat.of().formatHex(sha.digest());
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always has SHA-256", e);
    }
  }
}
