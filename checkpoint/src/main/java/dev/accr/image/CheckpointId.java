package dev.accr.image;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;

/** The 16-byte id shared by every file of one image set. */
public final class CheckpointId {
  public static final int LENGTH = 16;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final byte[] bytes;

  private CheckpointId(byte[] bytes) {
    this.bytes = bytes;
  }

  public static CheckpointId random() {
    byte[] b = new byte[LENGTH];
    RANDOM.nextBytes(b);
    return new CheckpointId(b);
  }

  public static CheckpointId of(byte[] bytes) {
    if (bytes.length != LENGTH) {
      throw new IllegalArgumentException("id must be " + LENGTH + " bytes, got " + bytes.length);
    }
    return new CheckpointId(bytes.clone());
  }

  public byte[] bytes() {
    return bytes.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CheckpointId c && Arrays.equals(bytes, c.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  @Override
  public String toString() {
    return HexFormat.of().formatHex(bytes);
  }
}
