package dev.accr.image;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The CRC32C of a whole file, built from the checksums of its pieces: a chunk's payload, whose
 * own checksum is computed anyway, is appended by that checksum and its length instead of being
 * read a second time (the combination of zlib's {@code crc32_combine}, for the Castagnoli
 * polynomial).
 */
final class RunningCrc {
  /** The Castagnoli polynomial, reflected. */
  private static final int POLY = 0x82F63B78;
  /** {@code x^(2^n) mod P}, for n = 0..31. */
  private static final int[] X2N = new int[32];

  static {
    int p = 1 << 30; // x^1
    X2N[0] = p;
    for (int n = 1; n < 32; n++) {
      X2N[n] = p = multiplyModP(p, p);
    }
  }

  private int value;

  /** Appends the bytes from {@code bytes}' position to its limit (which is left unchanged). */
  void update(ByteBuffer bytes) {
    CRC32C crc = new CRC32C();
    int length = bytes.remaining();
    crc.update(bytes.duplicate());
    append((int) crc.getValue(), length);
  }

  /** Appends {@code length} bytes whose own CRC32C is {@code crc}. */
  void append(int crc, long length) {
    value = combine(value, crc, length);
  }

  /** The CRC32C of everything appended so far. */
  long value() {
    return Integer.toUnsignedLong(value);
  }

  /** The CRC32C of A followed by B, from those of A and B and the length of B. */
  static int combine(int crcA, int crcB, long lengthB) {
    if (lengthB <= 0) {
      return crcA;
    }
    return multiplyModP(xPow8nModP(lengthB), crcA) ^ crcB;
  }

  /** {@code x^(8 n) mod P}. */
  private static int xPow8nModP(long n) {
    int p = 1 << 31; // x^0
    int k = 3;
    while (n != 0) {
      if ((n & 1) != 0) {
        p = multiplyModP(X2N[k & 31], p);
      }
      n >>>= 1;
      k++;
    }
    return p;
  }

  /**
   * {@code a * b mod P}, bits reflected. Without branches: the bits of a checksum are random,
   * and a branch on each mispredicts half of the time (a few of these per chunk written).
   */
  private static int multiplyModP(int a, int b) {
    int p = 0;
    for (int i = 0; i < 32; i++) {
      p ^= b & ((a << i) >> 31); // b when bit i of a, from the top, is set
      b = (b >>> 1) ^ (POLY & -(b & 1));
    }
    return p;
  }
}
