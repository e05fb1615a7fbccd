package dev.accr.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.accr.api.AccrException;
import dev.accr.api.CorruptImageException;
import dev.accr.image.ImageFraming;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.function.Executable;

/**
 * Helpers for corruption tests: damage the bytes of an image file (copies, never in place) and
 * check that reading it fails the documented way. Every failure other than the expected
 * {@link AccrException}, out-of-memory included, fails the test with a clear message.
 */
public final class ImageDamage {
  private ImageDamage() {}

  /** A copy of {@code bytes} with bit {@code bit} (0..7) of byte {@code offset} flipped. */
  public static byte[] flipBit(byte[] bytes, int offset, int bit) {
    byte[] copy = bytes.clone();
    copy[offset] ^= (byte) (1 << bit);
    return copy;
  }

  /** The first {@code length} bytes. */
  public static byte[] truncate(byte[] bytes, int length) {
    return Arrays.copyOf(bytes, length);
  }

  /** A copy with the big-endian int at {@code offset} replaced by {@code value}. */
  public static byte[] putInt(byte[] bytes, int offset, int value) {
    byte[] copy = bytes.clone();
    ByteBuffer.wrap(copy).putInt(offset, value);
    return copy;
  }

  /** A copy whose footer checksum is recomputed, so only the change under test is wrong. */
  public static byte[] reseal(byte[] bytes) {
    byte[] copy = bytes.clone();
    int footerAt = copy.length - ImageFraming.FOOTER_LENGTH;
    CRC32C crc = new CRC32C();
    crc.update(copy, 0, footerAt);
    ImageFraming.writeFooter(ByteBuffer.wrap(copy).position(footerAt), crc.getValue());
    return copy;
  }

  /**
   * Runs {@code action} and checks that it throws a {@link CorruptImageException} (exit code 3)
   * naming {@code file}. {@code context} says what was damaged, for failure messages.
   */
  public static CorruptImageException assertCorrupt(String file, String context,
      Executable action) {
    AccrException e = assertFails(AccrException.CORRUPT, file, context, action);
    if (!(e instanceof CorruptImageException corrupt)) {
      throw new AssertionError(context + ": expected CorruptImageException, got " + e, e);
    }
    assertEquals(file, corrupt.file(), context + ": file()");
    return corrupt;
  }

  public static CorruptImageException assertCorrupt(String file, Executable action) {
    return assertCorrupt(file, "damaged " + file, action);
  }

  /**
   * Runs {@code action} and checks that it throws an {@link AccrException} with
   * {@code exitCode} whose one-line message contains {@code mustContain}.
   */
  public static AccrException assertFails(int exitCode, String mustContain, String context,
      Executable action) {
    Throwable thrown = null;
    try {
      action.execute();
    } catch (Throwable t) {
      thrown = t;
    }
    if (thrown == null) {
      fail(context + ": expected exit code " + exitCode + " naming " + mustContain
          + ", but it succeeded");
    }
    if (!(thrown instanceof AccrException e)) {
      throw new AssertionError(context + ": expected an AccrException with exit code " + exitCode
          + ", but got " + thrown, thrown);
    }
    if (e.exitCode() != exitCode) {
      throw new AssertionError(context + ": exit code: actual=" + e.exitCode() + " expected="
          + exitCode + ": " + e.getMessage(), e);
    }
    String message = e.getMessage();
    assertTrue(message != null && message.contains(mustContain),
        () -> context + ": message does not contain '" + mustContain + "': " + message);
    assertTrue(message.lines().count() == 1, () -> context + ": not one line: " + message);
    return e;
  }
}
